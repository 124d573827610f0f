// Compiles contracts/*.sol with the solc pinned in package.json and writes
// artifacts/<Contract>.json (ABI, creation and runtime bytecode, compiler, settings, source
// SHA-256). Deterministic: CI regenerates the artifacts and fails if they differ from the
// committed ones (.ci/run). Usage: `npm ci && node compile.js` in l1/ (or l1/build.sh).
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const solc = require('solc');

const CONTRACTS = ['DAOracle'];
const SETTINGS = {
  optimizer: { enabled: true, runs: 10000 },
  viaIR: true,
  evmVersion: 'prague',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
};

const dir = __dirname;
const sources = {};
for (const name of CONTRACTS) {
  const file = `contracts/${name}.sol`;
  sources[file] = { content: fs.readFileSync(path.join(dir, file), 'utf8') };
}
const output = JSON.parse(solc.compile(JSON.stringify({ language: 'Solidity', sources, settings: SETTINGS })));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
for (const e of output.errors || []) {
  process.stderr.write(e.formattedMessage + '\n');
}
if (errors.length > 0) {
  process.exit(1);
}
fs.mkdirSync(path.join(dir, 'artifacts'), { recursive: true });
for (const name of CONTRACTS) {
  const file = `contracts/${name}.sol`;
  const c = output.contracts[file][name];
  const artifact = {
    contract: name,
    source: file,
    source_sha256: crypto.createHash('sha256').update(sources[file].content).digest('hex'),
    compiler: `solc-js ${solc.version()}`,
    settings: { optimizer: SETTINGS.optimizer, viaIR: SETTINGS.viaIR, evmVersion: SETTINGS.evmVersion },
    abi: c.abi,
    bytecode: c.evm.bytecode.object,
    deployedBytecode: c.evm.deployedBytecode.object,
  };
  fs.writeFileSync(path.join(dir, 'artifacts', `${name}.json`), JSON.stringify(artifact, null, 2) + '\n');
  process.stdout.write(`${name}: ${c.evm.deployedBytecode.object.length / 2} bytes of runtime code\n`);
}
