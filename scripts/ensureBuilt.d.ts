/** Builds `root`/dist/ from its src/ when missing or stale; true when it built. */
export function ensureBuilt(root?: string): boolean;
