import { execFileSync, execSync } from 'node:child_process';

/**
 * The peer tools the bench compares FileFerry with, found or installed. rclone is Debian's
 * package (1.60 on bookworm): installed with apt-get when the bench runs as root, as
 * scripts/ensureTestServers.js does for the servers. When it cannot be had, the bench says so in
 * its output and results instead of leaving the row out silently.
 */
export interface PeerTools {
  rclone?: { path: string; version: string };
  /** Why a peer is missing, for the output and the results' notes. */
  notes: string[];
}

function which(tool: string): string | undefined {
  try {
    return execFileSync('/bin/sh', ['-c', `command -v ${tool}`], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || undefined;
  } catch {
    return undefined;
  }
}

export function findPeerTools(): PeerTools {
  const notes: string[] = [];
  let path = which('rclone');
  if (!path && process.getuid?.() === 0) {
    try {
      process.stderr.write('bench: installing rclone (Debian package) for the peer rows\n');
      execSync('(DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rclone || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rclone)) >/dev/null', { stdio: ['ignore', 'ignore', 'pipe'], shell: '/bin/bash' });
    } catch (e) {
      notes.push(`rclone could not be installed here (apt-get install rclone failed: ${String((e as Error).message).split('\n')[0]}); its rows are missing.`);
    }
    path = which('rclone');
  }
  if (!path) {
    if (notes.length === 0) notes.push('rclone is not installed (apt-get install rclone, as root); its rows are missing.');
    return { notes };
  }
  const version = /rclone v?(\S+)/.exec(execFileSync(path, ['version']).toString())?.[1] ?? 'unknown';
  notes.push(`rclone ${version} (Debian) cannot be told a cipher; its rows show the one it negotiated.`);
  return { rclone: { path, version }, notes };
}
