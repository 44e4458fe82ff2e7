// Where a leaderboard page starts: `?cursor=` is the API's own cursor (opaque, checked by the API),
// `?from=` the number of runs before it, so ranks go on counting across pages.
export interface BoardPosition {
  cursor: string | undefined;
  offset: number;
}

export function boardPageOf(url: URL): BoardPosition {
  const cursor = url.searchParams.get("cursor") ?? undefined;
  const from = Number(url.searchParams.get("from") ?? 0);
  const valid = cursor !== undefined && /^[A-Za-z0-9_-]{1,500}$/.test(cursor);
  return {
    cursor: valid ? cursor : undefined,
    offset: valid && Number.isInteger(from) && from >= 0 && from < 1e9 ? from : 0,
  };
}
