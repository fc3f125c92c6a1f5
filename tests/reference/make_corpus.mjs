// Gathers a deterministic real-text corpus (~2.8 MB of prose and source code) from files that Debian 12
// installs with the packages scripts/setup.sh asks for, split into documents of a few KB at line
// boundaries, and writes it as a JSON array of strings.
//
//   node make_corpus.mjs OUT.json [--max-bytes N]
//
// The selection is fixed (named files, or sorted directory listings cut at a byte budget); files that
// are missing or not valid UTF-8 are skipped, so the corpus exists on any such machine.
import fs from 'node:fs';
import path from 'node:path';

const DOC_BYTES = 4096;

// Prose: licences and package copyright files (names, addresses, some non-ASCII).
const COPYRIGHT_PACKAGES = [
  'base-files', 'bash', 'binutils', 'clang-14', 'cmake', 'coreutils', 'diffutils', 'dpkg', 'findutils',
  'gcc-12', 'git', 'grep', 'gzip', 'libc6', 'libpcre2-dev', 'libssl-dev', 'libutf8proc-dev', 'make',
  'nlohmann-json3-dev', 'perl', 'pkg-config', 'python3', 'python3-numpy', 'python3.11', 'sed', 'tar',
];

// Each source: a list of files and the bytes to take from it, in order.
const SOURCES = [
  { files: () => listDir('/usr/share/common-licenses', () => true), budget: 300_000 },
  { files: () => COPYRIGHT_PACKAGES.map((p) => `/usr/share/doc/${p}/copyright`), budget: 500_000 },
  { files: () => listDir('/usr/include/c++/12/bits', (n) => n.endsWith('.h')), budget: 800_000 },
  { files: () => listDir('/usr/lib/python3.11', (n) => n.endsWith('.py')), budget: 800_000 },
  { files: () => listDir('/usr/share/perl/5.36', (n) => n.endsWith('.pm')), budget: 450_000 },
];

function listDir(dir, keep) {
  let names;
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  // Code-point order, not locale order, so that every machine sorts alike.
  return names.filter(keep).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((n) => path.join(dir, n));
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function readUtf8(file) {
  try {
    if (!fs.statSync(file).isFile()) return null;
    return utf8.decode(fs.readFileSync(file));
  } catch {
    return null;  // missing, unreadable or not UTF-8
  }
}

// Splits text at line ends into documents of at most DOC_BYTES (a longer single line stays whole).
function splitDocuments(text) {
  const docs = [];
  let current = '';
  let currentBytes = 0;
  for (const line of text.split(/(?<=\n)/)) {
    const bytes = Buffer.byteLength(line);
    if (currentBytes > 0 && currentBytes + bytes > DOC_BYTES) {
      docs.push(current);
      current = '';
      currentBytes = 0;
    }
    current += line;
    currentBytes += bytes;
  }
  if (current.length > 0) docs.push(current);
  return docs;
}

function gather(maxBytes) {
  const docs = [];
  const seenTexts = new Set();  // several packages share one copyright file; symlinked licences
  let total = 0;
  let files = 0;
  for (const source of SOURCES) {
    let taken = 0;
    for (const file of source.files()) {
      if (taken >= source.budget || total >= maxBytes) break;
      const text = readUtf8(file);
      if (text === null || text.length === 0 || seenTexts.has(text)) continue;
      seenTexts.add(text);
      files += 1;
      for (const doc of splitDocuments(text)) {
        const bytes = Buffer.byteLength(doc);
        docs.push(doc);
        taken += bytes;
        total += bytes;
        if (total >= maxBytes) break;
      }
    }
  }
  return { docs, total, files };
}

function main() {
  const args = process.argv.slice(2);
  const out = args[0];
  const maxIndex = args.indexOf('--max-bytes');
  const maxBytes = maxIndex >= 0 ? Number(args[maxIndex + 1]) : Infinity;
  if (!out || !(maxBytes > 0)) {
    console.error('usage: node make_corpus.mjs OUT.json [--max-bytes N]');
    process.exit(2);
  }
  const { docs, total, files } = gather(maxBytes);
  if (docs.length === 0) {
    console.error('make_corpus: no readable source files found');
    process.exit(1);
  }
  fs.writeFileSync(out, JSON.stringify(docs));
  console.error(`make_corpus: ${docs.length} documents, ${total} bytes from ${files} files -> ${out}`);
}

main();
