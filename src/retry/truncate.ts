/** Cuts text to at most `maxBytes` of UTF-8 without splitting a character; marks the cut with "…". */
export function truncateBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const marker = '…';
  const room = Math.max(0, maxBytes - Buffer.byteLength(marker));
  let cut = Buffer.from(text).subarray(0, room).toString('utf8');
  // A split multi-byte character decodes as U+FFFD; drop it.
  while (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return cut + marker;
}
