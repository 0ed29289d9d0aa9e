// Express and Fastify share their http server with a BroadcastServer (the shape of the recipes in
// docs/recipes.md, which test/recipes/ runs as written from a packed tarball): it broadcasts to
// nginx-rtmp while the framework keeps serving its routes.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { io as connect } from 'socket.io-client';
import { BroadcastServer } from '../../server/index.js';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';
import { probe } from '../helpers/probe.js';
import { useRtmpServer } from '../helpers/suite.js';
import { sendAll, start, stop, type ClientSocket } from '../helpers/stack.js';
import { H264_MIME } from '../helpers/constants.js';

// As the Express recipe.
function expressRecipe(port: number, rtmpUrl: string) {
  const app = express();
  app.use(express.static('public')); // your page with <rtmp-broadcaster>
  app.get('/healthz', (_request, response) => {
    response.json({ broadcasts: broadcaster.sessions().length });
  });

  const server = app.listen(port);
  const broadcaster = new BroadcastServer(server, {
    // The server chooses the destination: the stream key never reaches the browser.
    hooks: { start: () => ({ rtmpUrl }) },
  });

  async function shutdown() {
    await broadcaster.close(); // ends every broadcast cleanly
    server.close();
  }
  return { server, broadcaster, shutdown };
}

// As the Fastify recipe.
async function fastifyRecipe(port: number, rtmpUrl: string) {
  const fastify = Fastify();
  fastify.get('/healthz', async () => ({ broadcasts: broadcaster.sessions().length }));

  const broadcaster = new BroadcastServer(fastify.server, {
    hooks: { start: () => ({ rtmpUrl }) },
  });
  // fastify.close() then ends every broadcast cleanly before the server stops.
  fastify.addHook('preClose', () => broadcaster.close());

  await fastify.listen({ port });
  return { fastify, broadcaster };
}

const rtmp = useRtmpServer();

/** Broadcasts a second of h264 through the server at `origin` as BroadcastClient does (WebSocket only) and probes what nginx recorded. */
async function broadcastThrough(origin: string, stream: string): Promise<string> {
  const socket: ClientSocket = connect(origin, { transports: ['websocket'], reconnection: false, forceNew: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    assert.ok((await start(socket, { mimeType: H264_MIME })).ok);
    assert.ok((await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 1 }), 80_000))).every((ack) => ack.ok));
    assert.deepEqual(await stop(socket), { ok: true });
  } finally {
    socket.disconnect();
  }
  return (await probe(await rtmp.recording(stream))).video.codec;
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  return response.json();
}

describe('framework recipes', () => {
  test('Express: the BroadcastServer shares app.listen()’s server with the app’s routes', async (t) => {
    const logged = t.mock.method(console, 'info', () => {});
    const { server, shutdown } = expressRecipe(0, rtmp.url('express'));
    try {
      await new Promise((resolve) => (server.listening ? resolve(undefined) : server.once('listening', resolve)));
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      assert.deepEqual(await getJson(`${origin}/healthz`), { broadcasts: 0 });
      assert.equal(await broadcastThrough(origin, 'express'), 'h264');
      assert.ok(
        logged.mock.calls.some((call) => String(call.arguments[0]).includes('broadcast started')),
        'the default logger is the console',
      );
    } finally {
      await shutdown();
    }
  });

  test('Fastify: the BroadcastServer attaches to fastify.server, on every address fastify.listen() bound', async (t) => {
    t.mock.method(console, 'info', () => {});
    const { fastify } = await fastifyRecipe(0, rtmp.url('fastify'));
    try {
      // `localhost` may bind 127.0.0.1 and ::1: the second is a server of Fastify's own, which hands WebSocket upgrades to the first.
      const addresses = fastify.addresses().filter((bound): bound is AddressInfo => typeof bound !== 'string');
      assert.ok(addresses.length >= 1);
      for (const { address, port } of addresses) {
        const origin = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
        assert.deepEqual(await getJson(`${origin}/healthz`), { broadcasts: 0 });
        assert.equal(await broadcastThrough(origin, 'fastify'), 'h264', address);
      }
    } finally {
      await fastify.close();
    }
  });
});
