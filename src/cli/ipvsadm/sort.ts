/**
 * libipvs's sort: glibc qsort (a top-down merge sort) with ipvs_cmp_services / ipvs_cmp_dests.
 * Addresses and marks are compared as `(int)(a - b)` of unsigned 32-bit values, so values more
 * than 2^31 apart compare backwards; the exact merge order matters because that comparator is
 * not transitive.
 */
import type { DestEntry, SvcEntry } from "./entries.ts";

const AF_NUM = { inet: 2, inet6: 10 } as const;

/** (int)(a - b) on u32 */
export function wrapDiff(a: number, b: number): number {
  return ((a >>> 0) - (b >>> 0)) | 0;
}

/** The address as the union's four words (IPv4 occupies the first, the rest are zero). */
function words4(w: readonly number[] | undefined): number[] {
  return [w?.[0] ?? 0, w?.[1] ?? 0, w?.[2] ?? 0, w?.[3] ?? 0];
}

/** Compare as many words as the first operand's family has (1 for IPv4, 4 for IPv6). */
function cmpAddr(aIs6: boolean, a: readonly number[] | undefined, b: readonly number[] | undefined): number {
  const wa = words4(a);
  const wb = words4(b);
  const n = aIs6 ? 4 : 1;
  let r = 0;
  for (let i = 0; r === 0 && i < n; i++) r = wrapDiff(wa[i], wb[i]);
  return r;
}

export function cmpServices(s1: SvcEntry, s2: SvcEntry): number {
  let r = wrapDiff(s1.fwmark, s2.fwmark);
  if (r !== 0) return r;
  r = AF_NUM[s1.af] - AF_NUM[s2.af];
  if (r !== 0) return r;
  r = s1.protocol - s2.protocol;
  if (r !== 0) return r;
  r = cmpAddr(s1.af === "inet6", s1.addr?.words, s2.addr?.words);
  if (r !== 0) return r;
  return s1.port - s2.port;
}

export function cmpDests(d1: DestEntry, d2: DestEntry): number {
  const r = cmpAddr(d1.af === "inet6", d1.addr.words, d2.addr.words);
  if (r !== 0) return r;
  return d1.port - d2.port;
}

/** glibc msort_with_tmp: split n/2, sort halves, merge taking the left element when cmp <= 0. */
export function glibcMergeSort<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  if (items.length <= 1) return [...items];
  const n1 = items.length >> 1;
  const left = glibcMergeSort(items.slice(0, n1), cmp);
  const right = glibcMergeSort(items.slice(n1), cmp);
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) out.push(cmp(left[i], right[j]) <= 0 ? left[i++] : right[j++]);
  while (i < left.length) out.push(left[i++]);
  while (j < right.length) out.push(right[j++]);
  return out;
}
