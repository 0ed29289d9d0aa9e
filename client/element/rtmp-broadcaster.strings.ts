// The words <rtmp-broadcaster> shows, per language: labels, states, and for every error code a
// message that says what went wrong and what to do next. Pages override some with `strings`.
import type { BroadcastState } from '../broadcast-client.js';
import type { ErrorCode } from '../protocol.js';

/**
 * What the error line can say: every error code, plus the camera and microphone failures told
 * apart by the browser's reason (`NotAllowedError`, `NotFoundError`, `NotReadableError`).
 */
export type ErrorMessageKey = ErrorCode | 'MEDIA_DENIED' | 'MEDIA_NOT_FOUND' | 'MEDIA_IN_USE';

/** Every text the element shows. */
export interface RtmpBroadcasterStrings {
  /** Opens the green room: camera and microphone shown, nothing sent. */
  preview: string;
  start: string;
  pause: string;
  resume: string;
  stop: string;
  /** The mute-microphone toggle; it stays the same word when pressed (`aria-pressed` says muted). */
  muteMicrophone: string;
  /** The hide-video toggle (camera or screen); same word when pressed. */
  hideVideo: string;
  /** Read before the elapsed time by screen readers. */
  elapsedTime: string;
  kbps: string;
  camera: string;
  microphone: string;
  microphoneLevel: string;
  states: Record<BroadcastState, string>;
  errors: Record<ErrorMessageKey, string>;
}

/** A partial {@link RtmpBroadcasterStrings}: `states` and `errors` merge entry by entry. */
export type RtmpBroadcasterStringsOverride = Partial<Omit<RtmpBroadcasterStrings, 'states' | 'errors'>> & {
  states?: Partial<RtmpBroadcasterStrings['states']>;
  errors?: Partial<RtmpBroadcasterStrings['errors']>;
};

const en: RtmpBroadcasterStrings = {
  preview: 'Preview',
  start: 'Start',
  pause: 'Pause',
  resume: 'Resume',
  stop: 'Stop',
  muteMicrophone: 'Mute microphone',
  hideVideo: 'Hide video',
  elapsedTime: 'Elapsed time',
  kbps: 'kbps',
  camera: 'Camera',
  microphone: 'Microphone',
  microphoneLevel: 'Microphone level',
  states: {
    idle: 'Ready',
    connecting: 'Connecting…',
    live: 'Live',
    paused: 'Paused',
    reconnecting: 'Reconnecting…',
    stopping: 'Stopping…',
    ended: 'Ended',
    error: 'Error',
  },
  errors: {
    MEDIA_DENIED: 'The browser was not allowed to use the camera or microphone. Allow them in the address bar, then press Start again.',
    MEDIA_NOT_FOUND: 'No camera or microphone was found. Plug one in, then press Start again.',
    MEDIA_IN_USE: 'The camera or microphone is busy in another application. Close it, then press Start again.',
    MEDIA_UNAVAILABLE: 'The camera, microphone or screen could not be opened. Check that they are connected and allowed, then press Start again.',
    INVALID_REQUEST: 'The broadcast settings were refused as invalid. Ask the site owner to check them.',
    UNAUTHORIZED: 'The server refused to start this broadcast. Check that you are signed in and allowed to go live, then try again.',
    DESTINATION_NOT_ALLOWED: 'The server does not allow broadcasting to this destination. Check the stream URL, or ask the site owner.',
    TOO_MANY_STREAMS: 'The server is busy with other broadcasts. Try again in a few minutes.',
    ORIGIN_NOT_ALLOWED: 'This page is not allowed to use the broadcast server. Ask the site owner to allow it.',
    RATE_LIMITED: 'Too many attempts in a short time. Wait a minute, then try again.',
    MAX_DURATION: 'The broadcast reached the longest duration allowed, so it ended. Press Start to go live again.',
    ALREADY_STARTED: 'A broadcast is already running. Stop it before starting another.',
    NOT_STARTED: 'No broadcast is running. Press Start to go live.',
    CHUNK_TOO_LARGE: 'The video is too heavy for the server. Lower the quality, then try again.',
    INVALID_MEDIA: 'The server could not read the video from this browser. Try another browser.',
    DESTINATION_UNREACHABLE: 'The streaming service could not be reached or refused the stream. Check the stream URL and key, then try again.',
    FFMPEG_NOT_FOUND: 'The broadcast server is not set up to stream (ffmpeg is missing). Ask the site owner.',
    FFMPEG_EXITED: 'The broadcast stopped unexpectedly on the server. Press Start to try again.',
    IDLE_TIMEOUT: 'No video reached the server for too long, so the broadcast ended. Check your connection, then press Start.',
    NETWORK_TOO_SLOW: 'Your connection is too slow for this quality. Close other uploads or lower the quality, then try again.',
    BUFFER_FULL: 'The server could not keep up with the video, so the broadcast ended. Lower the quality, then try again.',
    DISCONNECTED: 'The connection to the broadcast server was lost. Check your internet connection, then press Start.',
    SERVER_SHUTDOWN: 'The broadcast server restarted; your broadcast ended. Press Start to go live again.',
    INTERNAL: 'Something went wrong on the broadcast server. Try again in a moment.',
  },
};

const fr: RtmpBroadcasterStrings = {
  preview: 'Aperçu',
  start: 'Démarrer',
  pause: 'Pause',
  resume: 'Reprendre',
  stop: 'Arrêter',
  muteMicrophone: 'Couper le micro',
  hideVideo: 'Masquer la vidéo',
  elapsedTime: 'Temps écoulé',
  kbps: 'kbit/s',
  camera: 'Caméra',
  microphone: 'Micro',
  microphoneLevel: 'Niveau du micro',
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
    MEDIA_DENIED: "Le navigateur n'a pas le droit d'utiliser la caméra ou le micro. Autorisez-les dans la barre d'adresse, puis appuyez de nouveau sur Démarrer.",
    MEDIA_NOT_FOUND: 'Aucune caméra ni aucun micro trouvés. Branchez-en un, puis appuyez de nouveau sur Démarrer.',
    MEDIA_IN_USE: 'La caméra ou le micro est occupé par une autre application. Fermez-la, puis appuyez de nouveau sur Démarrer.',
    MEDIA_UNAVAILABLE: "La caméra, le micro ou l'écran n'a pas pu être ouvert. Vérifiez qu'ils sont branchés et autorisés, puis appuyez de nouveau sur Démarrer.",
    INVALID_REQUEST: 'Les réglages de la diffusion ont été refusés. Demandez au responsable du site de les vérifier.',
    UNAUTHORIZED: "Le serveur a refusé de lancer cette diffusion. Vérifiez que vous êtes connecté et autorisé à passer en direct, puis réessayez.",
    DESTINATION_NOT_ALLOWED: "Le serveur n'autorise pas cette destination. Vérifiez l'URL du flux, ou demandez au responsable du site.",
    TOO_MANY_STREAMS: "Le serveur est occupé par d'autres diffusions. Réessayez dans quelques minutes.",
    ORIGIN_NOT_ALLOWED: "Cette page n'a pas le droit d'utiliser le serveur de diffusion. Demandez au responsable du site de l'autoriser.",
    RATE_LIMITED: 'Trop de tentatives en peu de temps. Attendez une minute, puis réessayez.',
    MAX_DURATION: 'La diffusion a atteint la durée maximale permise et s’est arrêtée. Appuyez sur Démarrer pour repasser en direct.',
    ALREADY_STARTED: 'Une diffusion est déjà en cours. Arrêtez-la avant d’en lancer une autre.',
    NOT_STARTED: 'Aucune diffusion en cours. Appuyez sur Démarrer pour passer en direct.',
    CHUNK_TOO_LARGE: 'La vidéo est trop lourde pour le serveur. Baissez la qualité, puis réessayez.',
    INVALID_MEDIA: 'Le serveur ne sait pas lire la vidéo de ce navigateur. Essayez un autre navigateur.',
    DESTINATION_UNREACHABLE: "Le service de diffusion est injoignable ou a refusé le flux. Vérifiez l'URL et la clé du flux, puis réessayez.",
    FFMPEG_NOT_FOUND: "Le serveur de diffusion n'est pas prêt (ffmpeg manque). Prévenez le responsable du site.",
    FFMPEG_EXITED: "La diffusion s'est arrêtée de façon inattendue sur le serveur. Appuyez sur Démarrer pour réessayer.",
    IDLE_TIMEOUT: "Aucune vidéo n'est arrivée au serveur depuis trop longtemps : la diffusion s'est arrêtée. Vérifiez votre connexion, puis appuyez sur Démarrer.",
    NETWORK_TOO_SLOW: "Votre connexion est trop lente pour cette qualité. Fermez les autres envois ou baissez la qualité, puis réessayez.",
    BUFFER_FULL: "Le serveur n'a pas suivi le débit de la vidéo : la diffusion s'est arrêtée. Baissez la qualité, puis réessayez.",
    DISCONNECTED: 'La connexion au serveur de diffusion a été perdue. Vérifiez votre connexion Internet, puis appuyez sur Démarrer.',
    SERVER_SHUTDOWN: 'Le serveur de diffusion a redémarré ; votre diffusion est terminée. Appuyez sur Démarrer pour repasser en direct.',
    INTERNAL: "Une erreur s'est produite sur le serveur de diffusion. Réessayez dans un instant.",
  },
};

const LANGUAGES: Record<string, RtmpBroadcasterStrings> = { en, fr };

/** The strings for a BCP 47 tag (`fr-CA` falls back to `fr`, anything unknown to English), with `override` on top. */
export function stringsFor(lang: string, override: RtmpBroadcasterStringsOverride = {}): RtmpBroadcasterStrings {
  const base = LANGUAGES[lang.toLowerCase().split('-')[0] ?? ''] ?? en;
  return {
    ...base,
    ...override,
    states: { ...base.states, ...override.states },
    errors: { ...base.errors, ...override.errors },
  };
}

/** Which message the error line shows for `code`; a camera failure is told apart by the browser's reason. */
export function errorMessageKey(code: ErrorCode, mediaFailure?: string): ErrorMessageKey {
  if (code !== 'MEDIA_UNAVAILABLE') return code;
  if (mediaFailure === 'NotAllowedError' || mediaFailure === 'SecurityError') return 'MEDIA_DENIED';
  if (mediaFailure === 'NotFoundError' || mediaFailure === 'OverconstrainedError') return 'MEDIA_NOT_FOUND';
  if (mediaFailure === 'NotReadableError' || mediaFailure === 'AbortError') return 'MEDIA_IN_USE';
  return code;
}
