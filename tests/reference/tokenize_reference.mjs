// Reference tokenization with Hugging Face `tokenizers` (the Rust library's official Node binding), which
// tests/test_tokenizer_conformance.cpp compares ortlm against.
//
//   node tokenize_reference.mjs --tokenizer tokenizer.json --out OUT.json
//        [--with-offsets INPUTS.json] [--inputs INPUTS.json] ...
//
// Each INPUTS.json is a JSON array of strings; the cases are all of them, in argument order. OUT.json is
//   {"hf_tokenizers": VERSION, "cases": [{"ids", "ids_plain", "decode", "decode_skip", "decode_plain",
//                                         "offsets"?}, ...]}
// ids: encode(text, addSpecialTokens = true); ids_plain: addSpecialTokens = false.
// decode / decode_skip: decode(ids, skipSpecialTokens = false / true); decode_plain: decode(ids_plain, false).
// A decoded text equal to the input text is written as null, which keeps the file small.
// offsets (only for --with-offsets inputs) are HF's character (Unicode scalar) offsets of `ids`, since the
// Node binding converts the Rust byte offsets to characters; the C++ side converts ortlm's byte offsets the
// same way before comparing.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Tokenizer } from 'tokenizers';

const BATCH = 64;  // texts per encodeBatch/decodeBatch call

function parseArgs(argv) {
  const options = { tokenizer: null, out: null, inputs: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) usage(`missing value after ${flag}`);
    if (flag === '--tokenizer') options.tokenizer = value;
    else if (flag === '--out') options.out = value;
    else if (flag === '--inputs') options.inputs.push({ file: value, offsets: false });
    else if (flag === '--with-offsets') options.inputs.push({ file: value, offsets: true });
    else usage(`unknown option ${flag}`);
  }
  if (!options.tokenizer || !options.out || options.inputs.length === 0) usage('missing option');
  return options;
}

function usage(why) {
  console.error(`tokenize_reference: ${why}\nusage: node tokenize_reference.mjs --tokenizer FILE --out FILE ` +
                '[--with-offsets INPUTS.json] [--inputs INPUTS.json] ...');
  process.exit(2);
}

function hfVersion() {
  const require = createRequire(import.meta.url);
  return require('tokenizers/package.json').version;
}

async function tokenizeChunk(tokenizer, texts, withOffsets) {
  const special = await tokenizer.encodeBatch(texts, { addSpecialTokens: true });
  const plain = await tokenizer.encodeBatch(texts, { addSpecialTokens: false });
  const ids = special.map((e) => e.getIds());
  const idsPlain = plain.map((e) => e.getIds());
  const [decoded, decodedSkip, decodedPlain] = await Promise.all([
    tokenizer.decodeBatch(ids, false),
    tokenizer.decodeBatch(ids, true),
    tokenizer.decodeBatch(idsPlain, false),
  ]);
  const orNull = (s, i) => (s === texts[i] ? null : s);
  return texts.map((_, i) => {
    const c = {
      ids: ids[i],
      ids_plain: idsPlain[i],
      decode: orNull(decoded[i], i),
      decode_skip: orNull(decodedSkip[i], i),
      decode_plain: orNull(decodedPlain[i], i),
    };
    if (withOffsets) c.offsets = special[i].getOffsets();
    return c;
  });
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const tokenizer = Tokenizer.fromFile(options.tokenizer);
  // ortlm has no truncation or padding; none of the tokenizer.json files under test set them, but make
  // sure batch encoding cannot pad.
  tokenizer.disablePadding();
  tokenizer.disableTruncation();
  const cases = [];
  for (const input of options.inputs) {
    const texts = JSON.parse(fs.readFileSync(input.file, 'utf8'));
    for (let begin = 0; begin < texts.length; begin += BATCH) {
      cases.push(...(await tokenizeChunk(tokenizer, texts.slice(begin, begin + BATCH), input.offsets)));
    }
  }
  fs.writeFileSync(options.out, JSON.stringify({ hf_tokenizers: hfVersion(), cases }));
}

main().catch((e) => {
  console.error(`tokenize_reference: ${e.stack || e}`);
  process.exit(1);
});
