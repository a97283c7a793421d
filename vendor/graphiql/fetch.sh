#!/bin/sh
# Fetches the prebuilt GraphiQL and React files of this directory from the npm registry, with
# their licences and those of the packages bundled into graphiql.min.js (see README.md).
# Needs node and npm; works in a temporary directory; nothing is built.
set -eu
GRAPHIQL=4.1.2
REACT=18.3.1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
for package in "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT"; do
  name=${package%@*}
  npm pack --silent "$package" >/dev/null
  mkdir "$name" && tar xzf "$name"-*.tgz -C "$name" --strip-components 1
done
cp graphiql/graphiql.min.js graphiql/graphiql.min.css "$here/"
cp graphiql/LICENSE "$here/LICENSE-graphiql"
cp react/umd/react.production.min.js react-dom/umd/react-dom.production.min.js "$here/"
cmp react/LICENSE react-dom/LICENSE
cp react/LICENSE "$here/LICENSE-react"

# The packages bundled into graphiql.min.js, as its source map names them, and their licences
# (from the versions npm installs now: the licences, not the code, are what is copied).
mkdir install && cd install && npm init -y >/dev/null
npm install --silent --no-audit --no-fund "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT"
node - "$tmp/graphiql/graphiql.min.js.map" > bundled.txt <<'JS'
const map = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const names = new Set();
for (const source of map.sources) {
  const at = source.lastIndexOf("node_modules/");
  if (at < 0) continue; // GraphiQL's own packages: LICENSE-graphiql
  const parts = source.slice(at + 13).split("/");
  names.add(parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]);
}
console.log([...names].sort().join("\n"));
JS
missing=$(while read -r name; do [ -d "node_modules/$name" ] || echo "$name"; done < bundled.txt)
[ -z "$missing" ] || npm install --silent --no-audit --no-fund --no-save $missing
node - bundled.txt > "$here/THIRD-PARTY-LICENSES.txt" <<'JS'
const fs = require("fs");
const names = fs.readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean);
let out = "Licences of the packages bundled into graphiql.min.js (GraphiQL " +
  "itself: LICENSE-graphiql).\n";
for (const name of names) {
  const dir = `node_modules/${name}`;
  const meta = JSON.parse(fs.readFileSync(`${dir}/package.json`, "utf8"));
  const file = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
  out += `\n${"=".repeat(78)}\n${name} (${meta.license})\n${"=".repeat(78)}\n\n`;
  if (file) {
    out += fs.readFileSync(`${dir}/${file}`, "utf8").trim() + "\n";
  } else {
    // The author's name only (the licence needs no address).
    const author = (typeof meta.author === "object" ? meta.author.name : meta.author || "")
      .replace(/\s*[<(].*$/, "");
    out += `The package has no licence file; its package.json declares "${meta.license}"` +
      (author ? `, author ${author}` : "") + ".\n";
  }
}
process.stdout.write(out);
JS
