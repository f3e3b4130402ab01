import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config';
import { ConfigError } from '../../src/domain/errors';
import { isListedApprover, isRequester, needsApproval, parseApprovers } from '../../src/workflow/approvalPolicy';

const GROUPS = ['DataOps', 'DevOps', 'Infrastructure'];
const fails = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (e: unknown) => e instanceof ConfigError && pattern.test(e.message));

describe('approval policy', () => {
  const bob = randomUUID();
  const carol = randomUUID().toUpperCase();

  it('reads Group=approver|approver;Group=… with object IDs, UPNs and channels', () => {
    const map = parseApprovers(`DataOps=${bob}|alice@contoso.com; DevOps = 19:abc123@thread.tacv2 , ${carol}`, GROUPS);
    assert.deepEqual(map.DataOps, [{ kind: 'user', objectId: bob }, { kind: 'upn', upn: 'alice@contoso.com' }]);
    assert.deepEqual(map.DevOps, [{ kind: 'channel', channelId: '19:abc123@thread.tacv2' }, { kind: 'user', objectId: carol.toLowerCase() }]);
    assert.equal(map.Infrastructure, undefined);
  });

  it('reads the same as JSON', () => {
    assert.deepEqual(parseApprovers(JSON.stringify({ DataOps: [bob, 'Alice@Contoso.com'] }), GROUPS).DataOps, [{ kind: 'user', objectId: bob }, { kind: 'upn', upn: 'alice@contoso.com' }]);
  });

  it('refuses what an operator would regret, naming the variable and the group', () => {
    fails(() => parseApprovers(`Finance=${bob}`, GROUPS), /FILEFERRY_APPROVERS names the group "Finance".*FILEFERRY_ASSIGNMENT_GROUPS/);
    fails(() => parseApprovers(`DataOps=${bob};DataOps=${carol}`, GROUPS), /"DataOps" twice/);
    fails(() => parseApprovers('DataOps=alice@contoso.com', GROUPS), /only UPNs.*object ID/);
    fails(() => parseApprovers('DataOps=not an approver', GROUPS), /"not an approver" of "DataOps" is not an Entra object ID, a UPN or a Teams channel/);
    fails(() => parseApprovers(`${bob}`, GROUPS), /is not Group=approver/);
    fails(() => parseApprovers('{"DataOps": "x"', GROUPS), /not JSON/);
    fails(() => parseApprovers('DataOps=', GROUPS), /no approvers/);
  });

  it('checks approvers by object ID, by the UPN Teams reports, or by a click inside a listed channel', () => {
    const refs = parseApprovers(`DataOps=${bob}|alice@contoso.com|19:room@thread.tacv2`, GROUPS).DataOps!;
    assert.ok(isListedApprover(refs, { actor: { userId: bob.toUpperCase(), name: 'Bob' } }));
    assert.ok(isListedApprover(refs, { actor: { userId: randomUUID(), name: 'Alice', upn: 'ALICE@contoso.com' } }));
    assert.ok(isListedApprover(refs, { actor: { userId: randomUUID(), name: 'Dan' }, conversationId: '19:room@thread.tacv2;messageid=1712' }));
    assert.equal(isListedApprover(refs, { actor: { userId: randomUUID(), name: 'Eve', upn: 'eve@contoso.com' }, conversationId: 'a:1:1-chat' }), false);
    assert.equal(isListedApprover(refs, { actor: { userId: randomUUID(), name: 'Eve' }, conversationId: '19:room@thread.tacv2x' }), false);
  });

  it('knows the requester by ID and tenant, or by UPN', () => {
    const owner = { userId: bob, tenantId: 't1', name: 'Bob', upn: 'bob@contoso.com' };
    assert.ok(isRequester(owner, { userId: bob, tenantId: 't1', name: 'Bob' }));
    assert.ok(isRequester(owner, { userId: randomUUID(), name: 'B', upn: 'BOB@contoso.com' }));
    assert.equal(isRequester(owner, { userId: bob, tenantId: 't2', name: 'Bob elsewhere' }), false);
  });

  describe('from the environment (config.ts)', () => {
    it('defaults to PROD and 24 h once approvers are configured, and applies to PROD only', () => {
      const { approval } = loadConfig({ FILEFERRY_APPROVERS: `DataOps=${bob}` });
      assert.deepEqual({ ...approval, approvers: undefined }, { environments: ['PROD'], via: 'teams', approvers: undefined, hours: 24, pollSeconds: 60 });
      assert.ok(needsApproval(approval, 'prod'));
      assert.equal(needsApproval(approval, 'QA'), false);
    });

    it('is off with no one to decide, or with FILEFERRY_APPROVAL_ENVIRONMENTS set empty', () => {
      assert.equal(loadConfig({}).approval, undefined);
      assert.equal(loadConfig({ FILEFERRY_APPROVAL_ENVIRONMENTS: '', FILEFERRY_APPROVERS: `DataOps=${bob}` }).approval, undefined);
    });

    it('takes the environments, hours and ServiceNow approval as given', () => {
      const snow = { FILEFERRY_TICKETING: 'servicenow', SERVICENOW_INSTANCE_URL: 'https://acme.service-now.com', SERVICENOW_APPROVAL: 'servicenow', SERVICENOW_APPROVAL_POLL_SECONDS: '15' };
      const { approval } = loadConfig({ ...snow, FILEFERRY_APPROVAL_ENVIRONMENTS: 'prod,uat', FILEFERRY_APPROVAL_HOURS: '2' });
      assert.deepEqual(approval, { environments: ['PROD', 'UAT'], via: 'servicenow', approvers: {}, hours: 2, pollSeconds: 15 });
    });

    it('names the variable when a value is wrong', () => {
      fails(() => loadConfig({ FILEFERRY_APPROVAL_ENVIRONMENTS: 'PROD,STAGING', FILEFERRY_APPROVERS: `DataOps=${bob}` }), /FILEFERRY_APPROVAL_ENVIRONMENTS names "STAGING"/);
      fails(() => loadConfig({ FILEFERRY_APPROVAL_HOURS: '0', FILEFERRY_APPROVERS: `DataOps=${bob}` }), /FILEFERRY_APPROVAL_HOURS/);
      fails(() => loadConfig({ SERVICENOW_APPROVAL: 'servicenow' }), /SERVICENOW_APPROVAL=servicenow needs FILEFERRY_TICKETING=servicenow/);
      fails(() => loadConfig({ SERVICENOW_APPROVAL: 'teams' }), /SERVICENOW_APPROVAL="teams" is not a value/);
      fails(() => loadConfig({ FILEFERRY_APPROVERS: 'Nobody=19:x@thread.tacv2' }), /FILEFERRY_APPROVERS names the group "Nobody"/);
    });
  });
});
