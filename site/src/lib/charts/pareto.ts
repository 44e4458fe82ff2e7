// The Pareto front of points where more is better on both axes: the points no other point beats
// on one axis without losing on the other.

/**
 * The items not dominated by any other item (another item at least as good on both values and
 * better on one), ordered by x ascending. Items with identical values dominate neither each other,
 * so both stay on the front. O(n log n).
 */
export function paretoFront<T>(items: readonly T[], x: (item: T) => number, y: (item: T) => number): T[] {
  // Fastest first, best first among equals; ties stay in input order once the front is reversed.
  const sorted = items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => x(b.item) - x(a.item) || y(b.item) - y(a.item) || b.index - a.index)
    .map(({ item }) => item);
  const front: T[] = [];
  let bestY = Number.NEGATIVE_INFINITY; // the highest y among items with a strictly greater x
  let i = 0;
  while (i < sorted.length) {
    const groupX = x(sorted[i] as T);
    const groupMaxY = y(sorted[i] as T);
    let j = i;
    while (j < sorted.length && x(sorted[j] as T) === groupX) {
      const item = sorted[j] as T;
      if (y(item) === groupMaxY && groupMaxY > bestY) front.push(item);
      j++;
    }
    bestY = Math.max(bestY, groupMaxY);
    i = j;
  }
  return front.reverse();
}
