import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { INetworkModule, NetworkResponse } from '@azure/msal-node';
import { fetchNetworkClient, observedNetworkClient } from '../../src/adapters/identity/entraHttpClient';

describe('Entra ID network clients', () => {
  let server: Server;
  let base: string;
  const seen: Array<{ method?: string; body: string; type?: string }> = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, body, type: req.headers['content-type'] });
        if (req.url === '/slow') return; // never answers
        const status = req.url === '/error' ? 400 : 200;
        res.writeHead(status, { 'content-type': 'application/json', 'X-Ms-Request-Id': 'r-1' });
        res.end(JSON.stringify({ ok: status === 200, error: status === 400 ? 'authorization_pending' : undefined }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('fetchNetworkClient resolves every status with the parsed body, lower-case headers, and sends the form', async () => {
    const client = fetchNetworkClient();
    const ok = await client.sendGetRequestAsync<{ ok: boolean }>(`${base}/ok`);
    assert.deepEqual([ok.status, ok.body.ok, ok.headers['x-ms-request-id']], [200, true, 'r-1']);
    const error = await client.sendPostRequestAsync<{ error: string }>(`${base}/error`, { body: 'a=1&b=2', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.deepEqual([error.status, error.body.error], [400, 'authorization_pending']);
    assert.deepEqual(seen.at(-1), { method: 'POST', body: 'a=1&b=2', type: 'application/x-www-form-urlencoded' });
  });

  it('fetchNetworkClient times out a request that is never answered, POSTs included', async () => {
    await assert.rejects(fetchNetworkClient(200).sendPostRequestAsync(`${base}/slow`, { body: '' }), { name: 'TimeoutError' });
  });

  it('observedNetworkClient counts token polls, reports pending answers and device code refusals', async () => {
    const answers: Record<string, NetworkResponse<unknown>> = {
      poll: { status: 400, headers: {}, body: { error: 'authorization_pending' } },
      devicecode: { status: 400, headers: {}, body: { error: 'invalid_client', error_codes: [700016] } },
    };
    const inner: INetworkModule = {
      sendGetRequestAsync: async () => ({ status: 200, headers: {}, body: {} }) as NetworkResponse<never>,
      sendPostRequestAsync: async (url) => (url.includes('/devicecode') ? answers.devicecode : answers.poll) as NetworkResponse<never>,
    };
    const events: string[] = [];
    const client = observedNetworkClient(inner, {
      pollStarted: (n) => events.push(`start ${n}`),
      pollPending: (n) => events.push(`pending ${n}`),
      deviceCodeRefused: (r) => events.push(`refused ${r.status} ${r.error} ${r.errorNo}`),
    });
    await client.sendPostRequestAsync('https://h/t/oauth2/v2.0/devicecode', { body: 'client_id=c&scope=openid' });
    await client.sendPostRequestAsync('https://h/t/oauth2/v2.0/token', { body: 'grant_type=device_code&device_code=d' });
    await client.sendPostRequestAsync('https://h/t/oauth2/v2.0/token', { body: 'grant_type=refresh_token&refresh_token=r' });
    await client.sendPostRequestAsync('https://h/t/oauth2/v2.0/token', { body: 'grant_type=device_code&device_code=d' });
    assert.deepEqual(events, ['refused 400 invalid_client 700016', 'start 1', 'pending 1', 'start 2', 'pending 2']);
  });
});
