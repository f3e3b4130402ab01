import { destinationLabel, type DestinationSpec } from './destinationSpec';

/** A destination the operator configured, offered by name on the destination card. */
export interface SavedDestination {
  name: string;
  spec: DestinationSpec;
}

/** How cards and logs name it: "Acme SFTP (sftp://ff@sftp.acme.example:22)", or just the name for a local folder. */
export function savedLabel(saved: SavedDestination): string {
  return saved.spec.protocol === 'local' ? saved.name : `${saved.name} (${destinationLabel(saved.spec)})`;
}
