import { EntraIdentity } from '../../src/adapters/identity/entraIdentity';
import { AzureBlobSource } from '../../src/adapters/source/azureBlobSource';
import type { SignInChallenge } from '../../src/ports/identityProvider';
import { identityProviderConformance, type ReadableObject } from './identityProviderSuite';
import { startAzuriteOAuth, type AzuriteOAuthServer } from '../support/azuriteOAuthServer';
import { FakeEntra } from '../support/fakeEntra';
import { msalHttpsClient } from '../support/msalHttpsClient';
import { tempDir } from '../support/tmp';
import { trustCaForPort } from '../support/trustCaForPort';

/**
 * The real MSAL device code flow against the fake Entra ID (HTTPS, test CA), and the session's
 * source a real AzureBlobSource reading Azurite (`--oauth basic`, HTTPS) with the user's token.
 */
describe('EntraIdentity', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let entra: FakeEntra;
  let azurite: AzuriteOAuthServer;
  let untrust: () => void = () => undefined;
  const upn = 'Ann.Example@contoso.example';
  const object: ReadableObject = { container: 'reports', key: 'eu/2024/été.csv', body: Buffer.from('id,total\n1,42\n') };

  before(async () => {
    dir = await tempDir('entra-conformance');
    entra = await FakeEntra.start({ certDir: dir.path });
    azurite = await startAzuriteOAuth();
    await azurite.seed(object.container, object.key, object.body);
    // AzureBlobSource takes no TLS options yet (see trustCaForPort.ts).
    untrust = trustCaForPort(azurite.port, azurite.caPem);
  });
  after(async () => {
    untrust();
    await entra?.close();
    await azurite?.stop();
    await dir?.remove();
  });

  const userCode = (challenge: SignInChallenge): string => {
    if (challenge.kind !== 'device-code') throw new Error('Entra ID signs in with a device code');
    return challenge.userCode;
  };

  identityProviderConformance('Microsoft Entra ID (MSAL device code, fake Entra ID, Azurite with OAuth)', {
    create: async () =>
      new EntraIdentity({
        tenantId: entra.tenantId,
        clientId: entra.clientId,
        authority: entra.authority,
        networkClient: msalHttpsClient(entra.caPem),
        openSource: (credential, location) => {
          if (location !== 'westeurope') throw new Error(`no account for ${location}`);
          return new AzureBlobSource({ accountUrl: azurite.accountUrl, credential });
        },
      }),
    scope: (requestId) => ({ requestId, user: { id: '29:1aad-ann', tenantId: entra.tenantId, name: 'Ann Example', upn }, cloud: 'Azure', region: 'westeurope' }),
    readable: () => object,
    // The person signs in with their UPN as Entra ID spells it (another case than Teams').
    approve: async (_scope, challenge) => entra.approve(userCode(challenge), { upn: upn.toLowerCase() }),
    deny: async (_scope, challenge) => entra.deny(userCode(challenge)),
  });
});
