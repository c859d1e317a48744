/**
 * A ZIP archive of a few files, stored without compression: how "Download as a model" saves a model folder
 * in one download (a browser saves files, not folders). Pure (no DOM), so `node --test tests/js/` covers it;
 * tests/test_teaching_model.py opens one with Python's zipfile.
 *
 * The layout is PKWARE's APPNOTE.TXT (https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT), sections
 * 4.3.7 (local file header), 4.3.12 (central directory header) and 4.3.16 (end of central directory): method
 * 0 (stored), CRC-32 of each file, UTF-8 names (flag bit 11). Files are a few hundred kilobytes, so no ZIP64.
 */

const CRC_TABLE = (() => {
  // The CRC-32 of ZIP (and PNG): reflected polynomial 0xEDB88320, one table entry per byte value.
  const table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let value = byte;
    for (let bit = 0; bit < 8; bit++) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
    table[byte] = value >>> 0;
  }
  return table;
})();

/** The CRC-32 of bytes (Uint8Array). */
export function crc32(bytes) {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// 1980-01-01 00:00, the earliest MS-DOS date: the archive of the same files is the same bytes whenever it is made.
const DOS_TIME = 0;
const DOS_DATE = (1 << 5) | 1;
const UTF8_NAMES = 1 << 11;
// Made on "Unix" (host 3, APPNOTE 4.4.2) with version 2.0, and each entry a regular file readable by all
// (mode 0644 in the upper half of the external attributes): Info-ZIP's unzip then reads the UTF-8 names as
// such, and gives the files ordinary permissions.
const MADE_BY = (3 << 8) | 20;
const REGULAR_FILE = (0o100644 << 16) >>> 0;
const MAX_BYTES = 0xffffffff; // sizes and offsets are 32 bits; this value itself means ZIP64, so it is refused
const MAX_ENTRIES = 0xffff;

/**
 * The archive of `files` ([{name, bytes}], names with "/" between folders, bytes a Uint8Array) as one
 * Uint8Array. Throws for a file or archive too large for a ZIP without ZIP64.
 */
export function zipStored(files) {
  const encoder = new TextEncoder();
  const parts = [];
  const directory = [];
  let offset = 0;
  if (files.length > MAX_ENTRIES) throw new Error('too many files for a ZIP archive');
  for (const { name, bytes } of files) {
    const nameBytes = encoder.encode(name);
    if (nameBytes.length > 0xffff) throw new Error('a file name is too long for a ZIP archive');
    if (bytes.length >= MAX_BYTES) throw new Error(`${name} is too large for a ZIP archive`);
    const crc = crc32(bytes);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true); // local file header signature
    local.setUint16(4, 20, true); // version needed to extract: 2.0
    local.setUint16(6, UTF8_NAMES, true);
    local.setUint16(8, 0, true); // stored
    local.setUint16(10, DOS_TIME, true);
    local.setUint16(12, DOS_DATE, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, bytes.length, true); // compressed size
    local.setUint32(22, bytes.length, true); // uncompressed size
    local.setUint16(26, nameBytes.length, true);
    local.setUint16(28, 0, true); // extra field length
    parts.push(new Uint8Array(local.buffer), nameBytes, bytes);

    const central = new DataView(new ArrayBuffer(46));
    central.setUint32(0, 0x02014b50, true); // central directory header signature
    central.setUint16(4, MADE_BY, true);
    central.setUint16(6, 20, true); // version needed to extract
    central.setUint16(8, UTF8_NAMES, true);
    central.setUint16(10, 0, true);
    central.setUint16(12, DOS_TIME, true);
    central.setUint16(14, DOS_DATE, true);
    central.setUint32(16, crc, true);
    central.setUint32(20, bytes.length, true);
    central.setUint32(24, bytes.length, true);
    central.setUint16(28, nameBytes.length, true);
    // Extra field, comment, disk number and internal attributes: 0.
    central.setUint32(38, REGULAR_FILE, true);
    central.setUint32(42, offset, true); // where the local header starts
    directory.push(new Uint8Array(central.buffer), nameBytes);
    offset += 30 + nameBytes.length + bytes.length;
    if (offset >= MAX_BYTES) throw new Error('the files are too large for a ZIP archive');
  }
  const directorySize = directory.reduce((sum, part) => sum + part.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true); // end of central directory signature
  end.setUint16(8, files.length, true); // entries on this disk
  end.setUint16(10, files.length, true); // entries in all
  end.setUint32(12, directorySize, true);
  end.setUint32(16, offset, true); // where the central directory starts
  const all = [...parts, ...directory, new Uint8Array(end.buffer)];
  const result = new Uint8Array(all.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of all) {
    result.set(part, at);
    at += part.length;
  }
  return result;
}
