import type { ChatUser } from './botHarness';

/**
 * Drives a new request through the embedded local flow up to the destination form: the request
 * form with `form`, the local sign-in, sample-bucket, the folders of `key`, then `key` itself.
 * Returns the request ID.
 */
export async function toDestinationForm(user: ChatUser, form: Record<string, string>, key: string): Promise<string> {
  await user.say('transfer');
  const card = await user.waitForAction('request.submit');
  await user.click('request.submit', { inputs: form });
  await user.waitForAction('signin.continue');
  await user.click('signin.continue');
  await user.click('bucket.pick', { match: { container: 'sample-bucket' } });
  const parts = key.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) await user.click('files.open', { match: { prefix: parts.slice(0, i).join('/') + '/' } });
  await user.click('file.pick', { match: { objectKey: key } });
  return String(card.action.data.requestId);
}
