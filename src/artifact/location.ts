/** What an artifact's `location` is: deployers accept artifacts by this, never by the builder that made them. */
export type LocationKind = 'host-path' | 'store-path' | 'image';

export function locationKind(location: string): LocationKind {
  if (location.startsWith('/nix/store/')) return 'store-path';
  if (location.startsWith('/')) return 'host-path';
  return 'image';
}
