// The destination is an ffmpeg argument and its stream key a password: what parses, what the
// allow-list admits, and that no form meant for people ever shows the key.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BroadcastError } from '../../client/protocol.js';
import { createRedactor, isAllowedDestination, parseDestination, redactDestination } from '../../server/destination.js';

const KEY = 'live_123456789_AbCdEfGhIjKlMnOp';

/** Runs parseDestination expecting a refusal; returns the error for more checks. */
function refusal(input: unknown, code = 'DESTINATION_NOT_ALLOWED'): BroadcastError {
  try {
    parseDestination(input);
  } catch (error) {
    assert.ok(error instanceof BroadcastError, `a BroadcastError for ${JSON.stringify(input)}`);
    assert.equal(error.code, code, `code for ${JSON.stringify(input)}`);
    assert.ok(error.message.length > 10, 'a human message');
    return error;
  }
  assert.fail(`${JSON.stringify(input)} was accepted`);
}

describe('parseDestination', () => {
  test('accepts rtmp and rtmps URLs with a host and returns the parsed URL', () => {
    const url = parseDestination(`rtmp://a.rtmp.youtube.com/live2/${KEY}`);
    assert.equal(url.protocol, 'rtmp:');
    assert.equal(url.hostname, 'a.rtmp.youtube.com');
    assert.equal(url.pathname, `/live2/${KEY}`);
    assert.equal(parseDestination('rtmps://live-api-s.facebook.com:443/rtmp/KEY').port, '443');
    assert.equal(parseDestination('rtmp://127.0.0.1:1935/live').hostname, '127.0.0.1');
    assert.equal(parseDestination('rtmp://[::1]:1935/live/k').hostname, '[::1]');
    assert.equal(parseDestination('rtmp://ingest.example.com').pathname, '');
    assert.equal(parseDestination('rtmp://user:pa%40ss@ingest.example.com/app/k?token=1').password, 'pa%40ss');
  });

  test('accepts the scheme in any case', () => {
    assert.equal(parseDestination('RTMP://host.example/app/k').protocol, 'rtmp:');
    assert.equal(parseDestination('RtMpS://host.example/app/k').protocol, 'rtmps:');
  });

  test('normalises dot segments, so the checked path is the one ffmpeg gets', () => {
    assert.equal(parseDestination('rtmp://a.com/live/../admin/k').href, 'rtmp://a.com/admin/k');
    assert.equal(parseDestination('rtmp://a.com/live/%2e%2e/admin/k').href, 'rtmp://a.com/admin/k');
  });

  test('refuses non-strings with INVALID_REQUEST', () => {
    for (const input of [undefined, null, 42, {}, ['rtmp://a.com/x'], new URL('rtmp://a.com/x')]) refusal(input, 'INVALID_REQUEST');
  });

  test('refuses every scheme but rtmp and rtmps, naming the scheme', () => {
    for (const input of [
      'file:///etc/passwd',
      'file:/tmp/out.flv',
      'pipe:1',
      'http://a.com/x',
      'https://a.com/x',
      'concat:/a|/b',
      'data:,hello',
      'tcp://a.com:1935',
      'udp://a.com:1',
      'rtmpt://a.com/app/k',
      'rtmpe://a.com/app/k',
      'srt://a.com:9000',
      'tee:[f=flv]rtmp://a.com/x',
      'subfile,,start,0,end,0,,:/etc/passwd',
      'javascript:alert(1)',
    ]) {
      const error = refusal(input);
      if (!input.startsWith('subfile')) assert.match(error.message, /rtmp:\/\/ and rtmps:\/\//, input);
    }
    assert.match(refusal('file:///etc/passwd').message, /\(got file:\)/);
  });

  test('refuses file paths with a message that says so', () => {
    for (const input of ['/tmp/out.flv', './out.flv', '../out.flv', '~/out.flv', 'C:\\out.flv', 'c:/out.flv', '\\\\server\\share']) {
      assert.match(refusal(input).message, /not a file path/, input);
    }
    for (const input of ['out.flv', 'a.com/live/key', '127.0.0.1/live']) {
      assert.match(refusal(input).message, /starting with rtmp:\/\//, input);
    }
  });

  test('refuses strings that would read as options', () => {
    assert.match(refusal('-f').message, /option/);
    assert.match(refusal('-rtmp://a.com/x').message, /option/);
  });

  test('refuses whitespace and control characters anywhere, even those URL() would silently drop', () => {
    for (const bad of [' ', '\t', '\n', '\r', '\0', '\x1b', '\x7f', '\u0085', '\u00a0', '\u2028', '\u3000', '\ufeff']) {
      for (const input of [`rtmp://a.com/live/${bad}key`, `rtmp://a.com/live/key${bad}`, `${bad}rtmp://a.com/live/key`]) {
        assert.match(refusal(input).message, /spaces or control characters/, JSON.stringify(input));
      }
    }
    // What would have happened without the raw check: URL() hides the newline.
    assert.equal(new URL('rtmp://a.com/li\nve').pathname, '/live');
  });

  test('refuses URLs without a host', () => {
    for (const input of ['rtmp:', 'rtmp://', 'rtmp:///live/key', 'rtmp:/a.com/live', 'rtmp:a.com/live', 'rtmps:live/key']) {
      assert.match(refusal(input).message, /no host/, input);
    }
  });

  test('refuses hosts getaddrinfo would never resolve and strings that are not URLs', () => {
    for (const input of [
      'rtmp://a%2fb/x',
      'rtmp://-a.com/x',
      'rtmp://a..com/x',
      'rtmp://a_b!.com/x',
      'rtmp://a.com:99999/x',
      'rtmp://:1935/x',
      'rtmp://a.com:port/x',
    ]) {
      refusal(input);
    }
  });

  test('refuses non-ASCII, which URL() would re-encode behind our back', () => {
    assert.match(refusal('rtmp://bücher.example/live/k').message, /ASCII/);
    assert.match(refusal('rtmp://a.com/live/clé').message, /ASCII/);
  });

  test('refuses the empty string and anything longer than 2048 characters', () => {
    refusal('');
    const path = 'x'.repeat(2048 - 'rtmp://a.com/live/'.length);
    assert.equal(parseDestination(`rtmp://a.com/live/${path}`).href.length, 2048);
    assert.match(refusal(`rtmp://a.com/live/${path}y`).message, /2048/);
  });

  test('never puts the stream key in a refusal message', () => {
    const secret = 'SeCrEtStReAmKeY';
    for (const input of [
      `file:///${secret}`,
      `http://a.com/live/${secret}`,
      `rtmp://a.com/live/${secret} `,
      `rtmp://a.com/live/${secret}\n`,
      `rtmp:///live/${secret}`,
      `rtmp://a%2f.com/live/${secret}`,
      `rtmp://a.com/live/${secret}é`,
      `-${secret}`,
      `/${secret}`,
      `${secret}`,
      `${secret}:rtmp://a.com`,
      `rtmp://a.com/live/${secret}${'x'.repeat(3000)}`,
    ]) {
      const error = refusal(input);
      assert.ok(!error.message.includes(secret), `${JSON.stringify(error.message)} leaks the key`);
      assert.ok(!error.message.toLowerCase().includes(secret.toLowerCase()));
    }
  });
});

describe('isAllowedDestination', () => {
  const url = (text: string) => parseDestination(text);

  test('admits nothing when the list is absent or empty', () => {
    assert.equal(isAllowedDestination(url('rtmp://a.com/live/k'), undefined), false);
    assert.equal(isAllowedDestination(url('rtmp://a.com/live/k'), []), false);
  });

  test('a string prefix admits URLs under it on a path segment boundary', () => {
    const allowed = ['rtmp://a.com/live'];
    assert.equal(isAllowedDestination(url(`rtmp://a.com/live/${KEY}`), allowed), true);
    assert.equal(isAllowedDestination(url('rtmp://a.com/live'), allowed), true);
    assert.equal(isAllowedDestination(url('rtmp://a.com/live/'), allowed), true);
    assert.equal(isAllowedDestination(url('rtmp://a.com/live2/x'), allowed), false);
    assert.equal(isAllowedDestination(url('rtmp://a.com/liv'), allowed), false);
    assert.equal(isAllowedDestination(url('rtmp://a.com/other/live/x'), allowed), false);
    assert.equal(isAllowedDestination(url('rtmp://a.com'), allowed), false);
    // A trailing slash on the prefix means the same.
    assert.equal(isAllowedDestination(url('rtmp://a.com/live/k'), ['rtmp://a.com/live/']), true);
    assert.equal(isAllowedDestination(url('rtmp://a.com/live2/k'), ['rtmp://a.com/live/']), false);
  });

  test('a string prefix matches the host exactly, not as a text prefix', () => {
    const allowed = ['rtmp://a.com/live'];
    assert.equal(isAllowedDestination(url('rtmp://a.com.evil.net/live/k'), allowed), false);
    assert.equal(isAllowedDestination(url('rtmp://evil.net/a.com/live/k'), allowed), false);
    assert.equal(isAllowedDestination(url('rtmp://a.com@evil.net/live/k'), allowed), false);
    assert.equal(isAllowedDestination(url('rtmp://xa.com/live/k'), allowed), false);
    // Host names are case-insensitive, and credentials for the same host do not change where it goes.
    assert.equal(isAllowedDestination(url('rtmp://A.COM/live/k'), allowed), true);
    assert.equal(isAllowedDestination(url('rtmp://user:pw@a.com/live/k'), allowed), true);
  });

  test('a string prefix matches protocol and port, with 1935/443 as the defaults', () => {
    assert.equal(isAllowedDestination(url('rtmps://a.com/live/k'), ['rtmp://a.com/live']), false);
    assert.equal(isAllowedDestination(url('rtmp://a.com/live/k'), ['rtmps://a.com/live']), false);
    assert.equal(isAllowedDestination(url('rtmp://a.com:1936/live/k'), ['rtmp://a.com/live']), false);
    assert.equal(isAllowedDestination(url('rtmp://a.com:1935/live/k'), ['rtmp://a.com/live']), true);
    assert.equal(isAllowedDestination(url('rtmp://a.com/live/k'), ['rtmp://a.com:1935/live']), true);
    assert.equal(isAllowedDestination(url('rtmps://a.com:443/live/k'), ['rtmps://a.com/live']), true);
    assert.equal(isAllowedDestination(url('rtmps://a.com:1935/live/k'), ['rtmps://a.com/live']), false);
  });

  test('a prefix with no path admits the whole host', () => {
    assert.equal(isAllowedDestination(url('rtmp://a.com/anything/k'), ['rtmp://a.com']), true);
    assert.equal(isAllowedDestination(url('rtmp://a.com/anything/k'), ['rtmp://a.com/']), true);
    assert.equal(isAllowedDestination(url('rtmp://b.com/anything/k'), ['rtmp://a.com']), false);
  });

  test('dot segments cannot climb out of an allowed prefix', () => {
    assert.equal(isAllowedDestination(url('rtmp://a.com/live/../admin/k'), ['rtmp://a.com/live']), false);
  });

  test('an unparsable prefix admits nothing', () => {
    assert.equal(isAllowedDestination(url('rtmp://a.com/live/k'), ['not a url', 'a.com/live']), false);
  });

  test('a RegExp is tested against the href, and g/y flags do not make it stateful', () => {
    const global = /^rtmp:\/\/a\.com\/live\//g;
    const target = url('rtmp://a.com/live/k');
    for (let i = 0; i < 5; i++) assert.equal(isAllowedDestination(target, [global]), true, `call ${i}`);
    const sticky = /rtmp:\/\/a\.com\//y;
    for (let i = 0; i < 5; i++) assert.equal(isAllowedDestination(target, [sticky]), true, `sticky call ${i}`);
    assert.equal(isAllowedDestination(url('rtmp://b.com/live/k'), [global]), false);
    // The RegExp sees the normalised href, not what the client typed.
    assert.equal(isAllowedDestination(url('RTMP://a.com/live/k'), [/^rtmp:\/\/a\.com\//]), true);
  });

  test('any entry of a mixed list can admit', () => {
    const allowed = ['rtmp://a.com/live', /^rtmps:\/\/b\.com\//];
    assert.equal(isAllowedDestination(url('rtmps://b.com/x/k'), allowed), true);
    assert.equal(isAllowedDestination(url('rtmp://a.com/live/k'), allowed), true);
    assert.equal(isAllowedDestination(url('rtmp://c.com/live/k'), allowed), false);
  });

  test('a predicate decides alone, and only a true result admits', () => {
    const seen: string[] = [];
    const allowed = (u: URL) => {
      seen.push(u.href);
      return u.hostname.endsWith('.example');
    };
    assert.equal(isAllowedDestination(url('rtmp://x.example/a/k'), allowed), true);
    assert.equal(isAllowedDestination(url('rtmp://x.other/a/k'), allowed), false);
    assert.deepEqual(seen, ['rtmp://x.example/a/k', 'rtmp://x.other/a/k']);
    assert.equal(isAllowedDestination(url('rtmp://x.example/a/k'), (() => 'yes') as unknown as (u: URL) => boolean), false);
  });

  test('a predicate cannot change the URL that was checked', () => {
    const target = url('rtmp://x.example/a/k');
    const sneaky = (u: URL) => {
      u.hostname = 'elsewhere.example';
      return true;
    };
    assert.equal(isAllowedDestination(target, sneaky), true);
    assert.equal(target.href, 'rtmp://x.example/a/k');
  });
});

describe('redactDestination', () => {
  test('keeps scheme, host, port and app; hides the key', () => {
    assert.equal(redactDestination(`rtmp://a.rtmp.youtube.com/live2/${KEY}`), 'rtmp://a.rtmp.youtube.com/live2/***');
    assert.equal(redactDestination(new URL('rtmps://h.example:443/app/k/more/parts')), 'rtmps://h.example:443/app/***');
    assert.equal(redactDestination('rtmp://h.example//k'), 'rtmp://h.example//***');
  });

  test('leaves a URL with nothing secret as it is', () => {
    assert.equal(redactDestination('rtmp://h.example/app'), 'rtmp://h.example/***', 'a lone segment may be the key (rtmp://host/KEY)');
    assert.equal(redactDestination('rtmp://h.example/app/'), 'rtmp://h.example/app/');
    assert.equal(redactDestination('rtmp://h.example'), 'rtmp://h.example');
    assert.equal(redactDestination('rtmp://h.example:1936/'), 'rtmp://h.example:1936/');
  });

  test('drops credentials and hides query and fragment', () => {
    const shown = redactDestination('rtmp://user:password@h.example/app/k?token=t0ken#frag');
    assert.equal(shown, 'rtmp://h.example/app/***?***#***');
    assert.equal(redactDestination('rtmp://h.example/app/live?token=t0ken'), 'rtmp://h.example/app/***?***');
  });

  test('shows nothing of a string that is not a URL', () => {
    assert.equal(redactDestination('rtmp://bad host/KEY'), 'rtmp://***');
    assert.equal(redactDestination('garbage KEY'), '***');
  });
});

describe('createRedactor', () => {
  const url = new URL('rtmp://user:p%40ssword@127.0.0.1:1/live/SECRETKEY?token=t0kenvalue');
  const redact = createRedactor(url);
  const secrets = ['SECRETKEY', 'p%40ssword', 'p@ssword', 't0kenvalue', 'token=t0kenvalue'];

  function assertClean(text: string) {
    for (const secret of secrets) assert.ok(!text.includes(secret), `${JSON.stringify(text)} still has ${secret}`);
  }

  test('replaces the URL in the lines ffmpeg 5.1 really prints with its redacted form', () => {
    // Printed by ffmpeg 5.1 for this URL against a closed port (see exit.test.ts).
    const lines = [
      '[tcp @ 0x5563a8cd8dc0] [error] Connection to tcp://127.0.0.1:1?tcp_nodelay=1 failed: Connection refused',
      '[rtmp @ 0x5563a8cd8680] [error] Cannot open connection tcp://127.0.0.1:1?tcp_nodelay=1',
      '[error] rtmp://user:p%40ssword@127.0.0.1:1/live/SECRETKEY?token=t0kenvalue: Connection refused',
    ];
    const out = lines.map(redact);
    assert.equal(out[0], lines[0]);
    assert.equal(out[1], lines[1]);
    assert.equal(out[2], '[error] rtmp://127.0.0.1:1/live/***?***: Connection refused');
  });

  test('removes the decoded href, the key, the password and the query wherever they appear', () => {
    const text = [
      'rtmp://user:p@ssword@127.0.0.1:1/live/SECRETKEY?token=t0kenvalue',
      'playpath SECRETKEY, fname=SECRETKEY, path=/live/SECRETKEY',
      'auth p@ssword / p%40ssword',
      'query token=t0kenvalue and t0kenvalue',
    ].join('\n');
    const out = redact(text);
    assertClean(out);
    assert.match(out, /^rtmp:\/\/127\.0\.0\.1:1\/live\/\*\*\*\?\*\*\*$/m);
    assert.match(out, /playpath \*\*\*, fname=\*\*\*, path=\/live\/\*\*\*/);
  });

  test('keeps punctuation around a URL and redacts other rtmp URLs too', () => {
    assert.equal(
      redact('for output file #0 (rtmp://127.0.0.1:1/live/SECRETKEY?token=t0kenvalue) has not been used'),
      'for output file #0 (rtmp://127.0.0.1:1/live/***?***) has not been used',
    );
    assert.equal(
      redact('Error closing file rtmps://other.example/app/OTHERKEY: Broken pipe'),
      'Error closing file rtmps://other.example/app/***: Broken pipe',
    );
    assert.equal(
      redact('\'rtmp://x.example/app/K1\', "RTMP://y.example/app/K2"'),
      '\'rtmp://x.example/app/***\', "rtmp://y.example/app/***"',
    );
  });

  test('leaves text without secrets alone', () => {
    const line = '[matroska,webm @ 0x55] [error] EBML header parsing failed';
    assert.equal(redact(line), line);
    assert.equal(redact(''), '');
  });

  test('a URL without a key, password or query is left readable', () => {
    const plain = createRedactor(new URL('rtmp://127.0.0.1:1/live/'));
    assert.equal(plain('[error] rtmp://127.0.0.1:1/live/: Connection refused'), '[error] rtmp://127.0.0.1:1/live/: Connection refused');
    assert.equal(plain('live streaming is live'), 'live streaming is live');
  });

  test('does not shred logs over a very short key, but still hides it inside URLs', () => {
    const short = createRedactor(new URL('rtmp://h.example/live/ab'));
    assert.equal(short('about abc'), 'about abc');
    assert.equal(short('rtmp://h.example/live/ab: End of file'), 'rtmp://h.example/live/***: End of file');
  });

  test('handles keys with characters special in regular expressions', () => {
    const tricky = createRedactor(new URL('rtmp://h.example/live/a.b*c+d(e)[f]$^|'));
    const out = tricky('key=a.b*c+d(e)[f]$^| and axbbcd');
    assert.equal(out, 'key=*** and axbbcd');
  });

  test('is cheap enough to run on every ffmpeg log line', () => {
    const line = '[flv @ 0x55d0c1a3e700] [warning] Failed to update header with correct duration.';
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) redact(line);
    const perLineUs = ((performance.now() - started) * 1000) / 100_000;
    assert.ok(perLineUs < 20, `${perLineUs.toFixed(2)} µs per line`);
  });
});
