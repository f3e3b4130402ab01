import { S3Source } from '../../src/adapters/source/s3Source';
import { storageSourceConformance } from './storageSourceSuite';
import { S3RVER_CREDENTIALS, startS3rver } from '../support/s3rverServer';

storageSourceConformance('S3 (s3rver)', async () => {
  const server = await startS3rver();
  const source = new S3Source({ endpoint: server.endpoint, region: 'us-east-1', credentials: S3RVER_CREDENTIALS });
  return {
    source,
    seed: (bucket, key, body) => server.seed(bucket, key, body),
    mutate: (bucket, key, body) => server.seed(bucket, key, body),
    teardown: async () => {
      try {
        source.destroy();
      } finally {
        await server.stop();
      }
    },
  };
});
