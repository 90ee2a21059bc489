// Validates every Kubernetes object under a folder against the Kubernetes API's own schemas (the
// validators kubernetes-models compiles from the OpenAPI spec): types, required fields, enums,
// formats. kubeconform does the same; it is not in the registries our CI can reach, this is.
// Also checks that the kustomization lists every manifest there is.
//   node validate.mjs ../kubernetes
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

const dir = process.argv[2] ?? "../kubernetes";
const NOT_APPLIED = new Set(["kustomization.yaml", "secret.example.yaml"]);
let failures = 0;
let checked = 0;

function fail(where, message) {
  console.error(`FAIL ${where}: ${message}`);
  failures++;
}

/** The kubernetes-models module of an apiVersion and kind: apps/v1 Deployment -> kubernetes-models/apps/v1/Deployment. */
async function model(apiVersion, kind) {
  try {
    return (await import(`kubernetes-models/${apiVersion}/${kind}`))[kind];
  } catch {
    return null;
  }
}

const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();
for (const file of files) {
  const docs = parseAllDocuments(readFileSync(join(dir, file), "utf8"));
  for (const [i, doc] of docs.entries()) {
    const where = `${file}#${i + 1}`;
    if (doc.errors.length > 0) {
      fail(where, `not YAML: ${doc.errors[0].message}`);
      continue;
    }
    const object = doc.toJS();
    if (object?.kind === "Kustomization") {
      const listed = new Set(object.resources ?? []);
      for (const f of files.filter((f) => !NOT_APPLIED.has(f) && !listed.has(f))) {
        fail(where, `does not list ${f}`);
      }
      for (const f of listed) {
        if (!files.includes(f)) fail(where, `lists ${f}, which does not exist`);
      }
      continue;
    }
    const Model = await model(object?.apiVersion, object?.kind);
    if (Model === null) {
      fail(where, `unknown apiVersion/kind ${object?.apiVersion}/${object?.kind}`);
      continue;
    }
    try {
      new Model(object).validate();
      checked++;
    } catch (e) {
      fail(`${where} ${object.kind} ${object.metadata?.name}`, e.message);
    }
  }
}
console.log(`${checked} objects valid, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
