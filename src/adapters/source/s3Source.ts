import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import {
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
  type GetObjectCommandOutput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { SourceError } from '../../domain/errors';
import type { LentCredential, PortableSource, SourceRecipe } from '../../ports/portableSource';
import type { ByteRange, ContainerInfo, ListOptions, ListPage, ObjectInfo } from '../../ports/storageSource';
import { checkRange } from './rangeGuard';
import { emptyStream, relayStream } from './relayStream';
import { sourceCancelled, sourceChanged } from './sourceErrors';
import { s3Checksums } from './s3Checksums';
import { describeS3, s3Error, type S3Target } from './s3Errors';

export interface S3SourceOptions {
  /** Defaults to the SDK chain (AWS_REGION, profile), or us-east-1 with a custom endpoint. */
  region?: string;
  /** An S3-compatible endpoint (MinIO, s3rver…). Without it the SDK chain and AWS_ENDPOINT_URL_S3 apply. */
  endpoint?: string;
  /** Fixed credentials or a provider (e.g. the SSO session's role credentials); default: the SDK chain. */
  credentials?: S3ClientConfig['credentials'];
  /** A ready client; every option above is then ignored. */
  client?: S3Client;
  /**
   * listContainers lists only the buckets in this region (the request form's), as ListBuckets'
   * BucketRegion or, where the answer has none (older S3-compatible servers), GetBucketLocation
   * says. Default: every bucket.
   */
  listRegion?: string;
}

const DEFAULT_PAGE_SIZE = 100;

/**
 * Amazon S3 (or an S3-compatible store) as a read-only storage source.
 *
 * Read-only by construction: this file imports only List/Head/Get commands (a unit test checks
 * it), so even a session whose role could write cannot do so through FileFerry.
 *
 * A read pins the version it was given: `VersionId` when the bucket is versioned, else
 * `If-Match: <ETag>`, and the response's version/ETag/total size are checked again because some
 * S3-compatible servers ignore If-Match. A different object is SOURCE_CHANGED, never mixed bytes.
 */
export class S3Source implements PortableSource {
  readonly scheme = 's3';
  /** One HTTP stream seldom fills the pipe from S3; four ranged GETs in flight usually do. */
  readonly parallelReads = 4;
  private readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly listRegion: string | undefined;
  /** GetBucketLocation answers, per bucket: a bucket does not move, so each is asked once per session. */
  private readonly bucketRegions = new Map<string, string>();

  constructor(private readonly options: S3SourceOptions = {}) {
    this.ownsClient = !options.client;
    this.listRegion = options.listRegion?.toLowerCase();
    this.client = options.client ?? new S3Client(clientConfig(options));
  }

  /** Undefined around a given client (its settings are not ours to describe). */
  recipe(): SourceRecipe | undefined {
    const o = this.options;
    if (o.client) return undefined;
    return { kind: 's3', ...definedOnly({ region: o.region, endpoint: o.endpoint, listRegion: o.listRegion }), credentials: o.credentials ? 'lent' : 'chain' };
  }

  async lend(): Promise<LentCredential> {
    const given = this.options.credentials;
    if (!given) throw new SourceError('UNSUPPORTED', 'This S3 source uses the SDK\'s own credential chain; there is nothing to lend.');
    // The provider is asked each time (untilExpiry refuses once the sign-in has ended).
    return typeof given === 'function' ? await given() : given;
  }

  async listContainers(signal?: AbortSignal): Promise<ContainerInfo[]> {
    const target: S3Target = {};
    const containers: ContainerInfo[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListBucketsCommand({ ContinuationToken: token }), { abortSignal: signal });
        for (const b of page.Buckets ?? []) {
          if (!b.Name) continue;
          if (b.BucketRegion) this.bucketRegions.set(b.Name, b.BucketRegion.toLowerCase());
          containers.push({ name: b.Name, createdAt: b.CreationDate });
        }
        token = page.ContinuationToken;
      } while (token);
    } catch (e) {
      throw s3Error(e, target, signal);
    }
    if (!this.listRegion) return containers;
    const inRegion: ContainerInfo[] = [];
    for (const c of containers) {
      const region = await this.regionOf(c.name, signal);
      // A bucket whose region cannot be read (GetBucketLocation denied) stays listed: opening it
      // says plainly if it lives elsewhere (INVALID_CONFIG), which beats hiding it.
      if (region === undefined || region === this.listRegion) inRegion.push(c);
    }
    return inRegion;
  }

  /** The bucket's region: from ListBuckets, else GetBucketLocation (cached); undefined when S3 will not say. */
  private async regionOf(bucket: string, signal?: AbortSignal): Promise<string | undefined> {
    const known = this.bucketRegions.get(bucket);
    if (known) return known;
    let answer;
    try {
      answer = await this.client.send(new GetBucketLocationCommand({ Bucket: bucket }), { abortSignal: signal });
    } catch (e) {
      const error = s3Error(e, { bucket }, signal);
      if (error.code === 'ACCESS_DENIED' || error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
    const region = locationRegion(answer.LocationConstraint);
    this.bucketRegions.set(bucket, region);
    return region;
  }

  async list(bucket: string, options: ListOptions = {}, signal?: AbortSignal): Promise<ListPage> {
    const prefix = options.prefix ?? '';
    try {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix || undefined,
          Delimiter: '/',
          MaxKeys: Math.min(1000, Math.max(1, Math.floor(options.pageSize ?? DEFAULT_PAGE_SIZE))),
          ContinuationToken: options.token,
        }),
        { abortSignal: signal },
      );
      const folders = (page.CommonPrefixes ?? []).flatMap((p) => (p.Prefix ? [p.Prefix] : []));
      const objects: ObjectInfo[] = (page.Contents ?? [])
        // "folder/" placeholder objects (the S3 console makes them) are folders, not files.
        .filter((o) => o.Key !== undefined && !o.Key.endsWith('/'))
        .map((o) => ({ key: o.Key!, size: o.Size ?? 0, lastModified: o.LastModified, etag: o.ETag }));
      return { folders, objects, ...(page.IsTruncated && page.NextContinuationToken ? { nextToken: page.NextContinuationToken } : {}) };
    } catch (e) {
      throw s3Error(e, { bucket, key: prefix }, signal);
    }
  }

  async stat(bucket: string, key: string, signal?: AbortSignal): Promise<ObjectInfo> {
    const target = { bucket, key };
    if (key === '' || key.endsWith('/')) {
      throw new SourceError('NOT_FOUND', `${describeS3(target)} is a folder, not a file.`, { hint: 'Pick a file inside it.' });
    }
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }), {
        abortSignal: signal,
      });
      return {
        key,
        size: head.ContentLength ?? 0,
        lastModified: head.LastModified,
        etag: head.ETag,
        ...(head.VersionId && head.VersionId !== 'null' ? { versionId: head.VersionId } : {}),
        ...optional('checksums', s3Checksums(head)),
      };
    } catch (e) {
      throw s3Error(e, target, signal);
    }
  }

  async read(bucket: string, object: ObjectInfo, range: ByteRange, signal?: AbortSignal): Promise<Readable> {
    const target = { bucket, key: object.key };
    const where = describeS3(target);
    if (signal?.aborted) throw sourceCancelled(where);
    checkRange(where, object, range);
    if (range.end === range.start) return emptyStream();
    let response: GetObjectCommandOutput;
    try {
      response = await this.client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: object.key,
          Range: `bytes=${range.start}-${range.end - 1}`,
          ...(object.versionId ? { VersionId: object.versionId } : object.etag ? { IfMatch: object.etag } : {}),
        }),
        { abortSignal: signal },
      );
    } catch (e) {
      const error = s3Error(e, target, signal);
      throw error.code === 'NOT_FOUND' ? sourceChanged(where, 'it is gone') : error;
    }
    const body = response.Body as Readable | undefined;
    const problem = pinProblem(object, response, range);
    if (problem || !body) {
      body?.destroy();
      if (problem?.code === 'SOURCE_CHANGED') throw sourceChanged(where, problem.how);
      throw new SourceError('UNSUPPORTED', `The S3 endpoint ignored the byte range asked of ${where} (${problem?.how ?? 'no body'}).`, {
        hint: 'Use an S3-compatible endpoint that supports ranged GET requests.',
      });
    }
    return relayStream(body, (e) => s3Error(e, target, signal), { where, signal });
  }

  /** Closes the connections of a client this source built (one passed in is the caller's). */
  destroy(): void {
    if (this.ownsClient) this.client.destroy();
  }
}

/** GetBucketLocation's LocationConstraint as a region: empty is us-east-1, and the legacy "EU" is eu-west-1. */
function locationRegion(constraint: string | undefined): string {
  if (!constraint) return 'us-east-1';
  if (constraint === 'EU') return 'eu-west-1';
  return constraint.toLowerCase();
}

function clientConfig(options: S3SourceOptions): S3ClientConfig {
  const endpoint = options.endpoint;
  const envEndpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  // Keep-alive sockets, enough for several ranged GETs per transfer and a few transfers at once.
  const agent = { keepAlive: true, maxSockets: 16 };
  return {
    ...optional('region', options.region ?? (endpoint ? 'us-east-1' : undefined)),
    ...optional('endpoint', endpoint),
    ...optional('credentials', options.credentials),
    // S3-compatible endpoints (and the SDK's own AWS_ENDPOINT_URL_S3) rarely serve bucket subdomains.
    forcePathStyle: Boolean(endpoint ?? envEndpoint),
    // A bucket picked from ListBuckets may live in another region: follow S3's redirect to it.
    followRegionRedirects: true,
    // One attempt per call: the transfer engine owns retries (backoff, resume from the last byte,
    // audit of every attempt). SDK retries underneath would multiply attempts and hide them.
    maxAttempts: 1,
    // The engine hashes every byte itself; ranged GETs carry no whole-object checksum to validate.
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    requestHandler: {
      httpAgent: new HttpAgent(agent),
      httpsAgent: new HttpsAgent(agent),
      connectionTimeout: 15_000,
    },
  };
}

/** Why a GetObject response is not the pinned object's range, if it is not. */
function pinProblem(object: ObjectInfo, response: GetObjectCommandOutput, range: ByteRange): { code: 'SOURCE_CHANGED' | 'UNSUPPORTED'; how: string } | undefined {
  if (object.versionId && response.VersionId && response.VersionId !== object.versionId) {
    return { code: 'SOURCE_CHANGED', how: `version ${response.VersionId} was served instead of ${object.versionId}` };
  }
  if (!object.versionId && object.etag && response.ETag && response.ETag !== object.etag) {
    return { code: 'SOURCE_CHANGED', how: `its ETag is now ${response.ETag}` };
  }
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.ContentRange ?? '');
  if (match) {
    if (match[3] !== '*' && Number(match[3]) !== object.size) return { code: 'SOURCE_CHANGED', how: `it now has ${match[3]} bytes` };
    if (Number(match[1]) !== range.start || Number(match[2]) !== range.end - 1) {
      return { code: 'UNSUPPORTED', how: `asked for bytes ${range.start}-${range.end - 1}, got ${match[1]}-${match[2]}` };
    }
    return undefined;
  }
  // No Content-Range: a whole-object answer, fine only when the whole object was asked for.
  const whole = range.start === 0 && range.end === object.size && (response.ContentLength ?? object.size) === object.size;
  return whole ? undefined : { code: 'UNSUPPORTED', how: 'the whole object was sent' };
}

/** `{ [name]: value }` when value is defined, else `{}` (keeps undefined out of SDK configs). */
function optional<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V };
}

function definedOnly<T extends Record<string, string | undefined>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
