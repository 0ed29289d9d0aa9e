// The words of <rtmp-broadcaster> in French.
import type { RtmpBroadcasterStrings } from '../rtmp-broadcaster.strings.js';

/** French. */
export const fr: RtmpBroadcasterStrings = {
  preview: 'Aperçu',
  previewing: 'Aperçu, hors antenne',
  summary: 'En direct pendant {duration}, {kbps} kbit/s en moyenne',
  start: 'Passer en direct',
  pause: 'Pause',
  resume: 'Reprendre',
  stop: 'Terminer la diffusion',
  muteMicrophone: 'Couper le micro',
  hideVideo: 'Masquer la vidéo',
  elapsedTime: 'Temps écoulé',
  kbps: 'kbit/s',
  fps: 'im/s',
  delay: '{ms} ms de délai',
  networkSlow: 'Votre connexion prend du retard : fermez les autres envois ou baissez la qualité.',
  onAir: 'EN DIRECT',
  connectingTo: 'Connexion à {host}…',
  reconnecting: {
    destination: 'Le service de diffusion a coupé le direct ; nouvel essai dans {seconds} s',
    offline: 'Vous êtes hors ligne ; en attente du réseau, encore {seconds} s',
    server: 'Le serveur ne répond plus ; nouvel essai, encore {seconds} s',
  },
  camera: 'Caméra',
  microphone: 'Micro',
  microphoneLevel: 'Niveau du micro',
  destination: 'Destination',
  service: 'Service',
  customService: 'Personnalisé',
  serverUrl: 'URL du serveur',
  streamKey: 'Clé de stream',
  showKey: 'Afficher la clé',
  streamKeyHint:
    "Collez l'URL du serveur et la clé de stream données par votre service de diffusion. La clé n'est envoyée qu'au serveur de diffusion, jamais affichée.",
  states: {
    idle: 'Prêt',
    connecting: 'Connexion…',
    live: 'En direct',
    paused: 'En pause',
    reconnecting: 'Reconnexion…',
    stopping: 'Arrêt…',
    ended: 'Terminé',
    error: 'Erreur',
  },
  errors: {
    MEDIA_DENIED:
      "Le navigateur n'a pas le droit d'utiliser la caméra ou le micro. Autorisez-les dans la barre d'adresse, puis appuyez de nouveau sur Passer en direct.",
    MEDIA_NOT_FOUND: 'Aucune caméra ni aucun micro trouvés. Branchez-en un, puis appuyez de nouveau sur Passer en direct.',
    MEDIA_IN_USE: 'La caméra ou le micro est occupé par une autre application. Fermez-la, puis appuyez de nouveau sur Passer en direct.',
    MISSING_SCHEME:
      "L'URL du flux doit commencer par rtmp:// ou rtmps://. Copiez telle quelle l'URL du serveur donnée par votre service de diffusion (par exemple rtmp://a.rtmp.youtube.com/live2), puis appuyez de nouveau sur Passer en direct.",
    MISSING_KEY:
      'Collez la clé de stream donnée par votre service de diffusion dans le champ Clé de stream, puis appuyez de nouveau sur Passer en direct.',
    MEDIA_UNAVAILABLE:
      "La caméra, le micro ou l'écran n'a pas pu être ouvert. Vérifiez qu'ils sont branchés et autorisés, puis appuyez de nouveau sur Passer en direct.",
    INVALID_REQUEST: 'Les réglages de la diffusion ont été refusés. Demandez au responsable du site de les vérifier.',
    UNAUTHORIZED:
      'Le serveur a refusé de lancer cette diffusion. Vérifiez que vous êtes connecté et autorisé à passer en direct, puis réessayez.',
    DESTINATION_NOT_ALLOWED: "Le serveur n'autorise pas cette destination. Vérifiez l'URL du flux, ou demandez au responsable du site.",
    TOO_MANY_STREAMS: "Le serveur est occupé par d'autres diffusions. Réessayez dans quelques minutes.",
    ORIGIN_NOT_ALLOWED: "Cette page n'a pas le droit d'utiliser le serveur de diffusion. Demandez au responsable du site de l'autoriser.",
    RATE_LIMITED: 'Trop de tentatives en peu de temps. Attendez une minute, puis réessayez.',
    MAX_DURATION:
      'La diffusion a atteint la durée maximale permise et s’est arrêtée. Appuyez sur Passer en direct pour repasser en direct.',
    ALREADY_STARTED: 'Une diffusion est déjà en cours. Terminez-la avant d’en lancer une autre.',
    NOT_STARTED: 'Aucune diffusion en cours. Appuyez sur Passer en direct pour passer en direct.',
    CHUNK_TOO_LARGE: 'La vidéo est trop lourde pour le serveur. Baissez la qualité, puis réessayez.',
    INVALID_MEDIA: 'Le serveur ne sait pas lire la vidéo de ce navigateur. Essayez un autre navigateur.',
    DESTINATION_UNREACHABLE:
      "Le service de diffusion est injoignable ou a refusé le flux. Vérifiez l'URL et la clé du flux, puis réessayez.",
    FFMPEG_NOT_FOUND: "Le serveur de diffusion n'est pas prêt (ffmpeg manque). Prévenez le responsable du site.",
    FFMPEG_EXITED: "La diffusion s'est arrêtée de façon inattendue sur le serveur. Appuyez sur Passer en direct pour réessayer.",
    IDLE_TIMEOUT:
      "Aucune vidéo n'est arrivée au serveur depuis trop longtemps : la diffusion s'est arrêtée. Vérifiez votre connexion, puis appuyez sur Passer en direct.",
    NETWORK_TOO_SLOW: 'Votre connexion est trop lente pour cette qualité. Fermez les autres envois ou baissez la qualité, puis réessayez.',
    BUFFER_FULL: "Le serveur n'a pas suivi le débit de la vidéo : la diffusion s'est arrêtée. Baissez la qualité, puis réessayez.",
    DISCONNECTED:
      "Le serveur de diffusion ne répond plus : la diffusion s'est arrêtée. Appuyez sur Passer en direct pour réessayer ; si cela se répète, le serveur est peut-être en panne.",
    OFFLINE:
      "Cet appareil s'est retrouvé hors ligne : la diffusion s'est arrêtée. Vérifiez votre connexion Internet, puis appuyez sur Passer en direct.",
    SERVER_BUSY:
      'Le serveur de diffusion est complet pour le moment. Attendez quelques secondes, puis appuyez de nouveau sur Passer en direct.',
    SERVER_SHUTDOWN:
      'Le serveur de diffusion a redémarré ; votre diffusion est terminée. Appuyez sur Passer en direct pour repasser en direct.',
    INTERNAL: "Une erreur s'est produite sur le serveur de diffusion. Réessayez dans un instant.",
  },
};
