// Deploys the platform's services to an environment (see scripts/deploy.sh for the options and
// docs/deploy.md for a first deploy): checks every service's configuration and secrets before
// anything changes, builds each service once, applies its D1 migrations, and deploys the services
// backends first, the gateway last (the order follows their service bindings). `--dry-run` runs
// every step that needs no Cloudflare account and says what the others would do.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { parse } from "smol-toml";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = join(root, "node_modules", ".bin", "wrangler");
const PLACEHOLDER_ID = /^0{8}-0{4}-0{4}-0{4}-0{12}$/;

const usage = `usage: scripts/deploy.sh [--env staging|production] [--dry-run] [--skip-build]
                        [--only SERVICE[,SERVICE…]] [--namespace NAME]

  --env         the environment of each services/*/wrangler.toml to deploy (default: staging)
  --dry-run     run every step that needs no account; say what the others would do
  --skip-build  deploy what the last build left in each service's build/
  --only        deploy these services (directory names under services/), in dependency order
  --namespace   deploy into this Workers for Platforms dispatch namespace (with --only)`;

function fail(message) {
  console.error(`\x1b[31m[deploy]\x1b[0m ${message}`);
  process.exit(1);
}

function say(message) {
  console.log(`\x1b[1m[deploy]\x1b[0m ${message}`);
}

function options(argv) {
  const chosen = { env: "staging", dryRun: false, skipBuild: false, only: null, namespace: null };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? fail(`${argv[i - 1]} needs a value\n${usage}`);
    switch (argv[i]) {
      case "--env":
        chosen.env = value();
        break;
      case "--dry-run":
        chosen.dryRun = true;
        break;
      case "--skip-build":
        chosen.skipBuild = true;
        break;
      case "--only":
        chosen.only = value().split(",").filter(Boolean);
        break;
      case "--namespace":
        chosen.namespace = value();
        break;
      case "--help":
      case "-h":
        console.log(usage);
        process.exit(0);
      default:
        fail(`unknown option \`${argv[i]}\`\n${usage}`);
    }
  }
  if (!["staging", "production"].includes(chosen.env)) fail(`--env is staging or production, not \`${chosen.env}\``);
  if (chosen.namespace && !chosen.only) fail("--namespace deploys the services named by --only into a dispatch namespace");
  return chosen;
}

/** Each service's configuration and what the environment makes of it. */
function services(env) {
  const dirs = readdirSync(join(root, "services"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, "services", entry.name, "wrangler.toml")))
    .map((entry) => entry.name)
    .sort();
  return dirs.map((dir) => {
    const path = join(root, "services", dir, "wrangler.toml");
    const text = readFileSync(path, "utf8");
    const config = parse(text);
    const scope = config.env?.[env];
    if (!scope) fail(`${relative(root, path)} has no [env.${env}]: see docs/deploy.md`);
    return {
      dir,
      path,
      text,
      name: scope.name ?? `${config.name}-${env}`,
      bindings: (scope.services ?? []).map((binding) => binding.service),
      databases: scope.d1_databases ?? [],
      secrets: scope.secrets?.required ?? [],
    };
  });
}

/** Backends before the services that bind them; a cycle cannot be deployed in order. */
function dependencyOrder(all) {
  const byName = new Map(all.map((service) => [service.name, service]));
  const order = [];
  const state = new Map();
  const visit = (service, path) => {
    if (state.get(service.name) === "done") return;
    if (state.get(service.name) === "visiting") fail(`service bindings form a cycle: ${[...path, service.name].join(" → ")}`);
    state.set(service.name, "visiting");
    for (const name of service.bindings) {
      const backend = byName.get(name);
      // A binding to a worker outside services/ (a tenant's, another team's) is not ours to deploy.
      if (backend) visit(backend, [...path, service.name]);
    }
    state.set(service.name, "done");
    order.push(service);
  };
  for (const service of all) visit(service, []);
  return order;
}

function run(args, { capture = false } = {}) {
  const result = spawnSync(args[0], args.slice(1), {
    cwd: root,
    encoding: "utf8",
    stdio: capture ? ["ignore", "pipe", "pipe"] : "inherit",
    env: process.env,
  });
  if (result.status !== 0) {
    fail(`\`${args.map((arg) => relative(root, arg) || arg).join(" ")}\` failed (${result.status})${capture ? `:\n${result.stdout}${result.stderr}` : ""}`);
  }
  return result.stdout;
}

/** The names in a `.dev.vars.example`: what local development gives each secret. */
function developmentNames(service) {
  const example = join(root, "services", service.dir, ".dev.vars.example");
  if (!existsSync(example)) return new Set();
  return new Set(
    readFileSync(example, "utf8")
      .split("\n")
      .filter((line) => line.includes("=") && !line.startsWith("#"))
      .map((line) => line.split("=")[0].trim()),
  );
}

/** The configuration as deployed: without `[build]`, so the build this script made is what ships. */
function withoutBuild(text) {
  const out = [];
  let inBuild = false;
  for (const line of text.split("\n")) {
    const header = line.match(/^\s*\[\[?([^\]]+)\]\]?\s*$/);
    if (header) inBuild = header[1].trim() === "build";
    if (!inBuild) out.push(line);
  }
  return out.join("\n");
}

const chosen = options(process.argv.slice(2));
const all = services(chosen.env);
let order = dependencyOrder(all);
if (chosen.only) {
  const unknown = chosen.only.filter((dir) => !all.some((service) => service.dir === dir));
  if (unknown.length) fail(`no service ${unknown.join(", ")} under services/`);
  order = order.filter((service) => chosen.only.includes(service.dir));
}
const mode = chosen.dryRun ? "dry run" : "deploy";
say(`${mode} to ${chosen.env}${chosen.namespace ? ` in dispatch namespace ${chosen.namespace}` : ""}: ${order.map((service) => service.name).join(" → ")}`);

// 1. Every check before anything changes: placeholder ids, declared secrets, then the account's.
const problems = [];
for (const service of order) {
  const config = relative(root, service.path);
  for (const database of service.databases) {
    if (PLACEHOLDER_ID.test(database.database_id ?? "")) {
      const problem = `${config}: [[env.${chosen.env}.d1_databases]] ${database.binding} has no database yet: \`wrangler d1 create ${database.database_name}\` and put its id there`;
      if (chosen.dryRun) say(`would refuse: ${problem}`);
      else problems.push(problem);
    }
  }
  const development = developmentNames(service);
  const undeveloped = service.secrets.filter((name) => !development.has(name));
  if (undeveloped.length) {
    problems.push(`${config}: ${undeveloped.join(", ")} required in ${chosen.env} but without a development value in .dev.vars.example`);
  }
}
// What the files say is wrong is said before the account is asked anything.
if (problems.length) fail(`nothing was deployed:\n  ${problems.join("\n  ")}`);
if (!chosen.dryRun) {
  for (const service of order) {
    if (!service.secrets.length) continue;
    const listed = run([wrangler, "secret", "list", "--format", "json", "--env", chosen.env, "-c", service.path], { capture: true });
    // The JSON array, whatever wrangler prints around it.
    const json = listed.slice(listed.indexOf("["), listed.lastIndexOf("]") + 1);
    let names;
    try {
      names = JSON.parse(json).map((secret) => secret.name);
    } catch {
      fail(`\`wrangler secret list\` for ${service.name} answered what is not a list of secrets:\n${listed}`);
    }
    const present = new Set(names);
    const missing = service.secrets.filter((name) => !present.has(name));
    if (missing.length) {
      problems.push(`${service.name} lacks ${missing.join(", ")}: \`wrangler secret put NAME --env ${chosen.env} -c ${relative(root, service.path)}\` for each`);
    }
  }
}
if (problems.length) fail(`nothing was deployed:\n  ${problems.join("\n  ")}`);
for (const service of order) {
  const secrets = service.secrets.length ? service.secrets.join(", ") : "none";
  say(`${service.name}: secrets required ${secrets} — ${chosen.dryRun ? "declared, each with a development value (the account is not asked in a dry run)" : "all set"}`);
}

// 2. Each service built once.
if (chosen.skipBuild) {
  for (const service of order) {
    if (!existsSync(join(root, "services", service.dir, "build", "index.js"))) fail(`--skip-build, but services/${service.dir}/build has no build`);
  }
  say("using the last build of each service (--skip-build)");
} else {
  for (const service of order) {
    say(`building ${service.dir}`);
    run(["worker-build", "--release", join(root, "services", service.dir)]);
  }
}

// 3. Migrations, then the deploy, service by service in dependency order.
const done = [];
const into = chosen.namespace ? ` into dispatch namespace ${chosen.namespace}` : "";
for (const service of order) {
  for (const database of service.databases) {
    const migrations = join(dirname(service.path), database.migrations_dir ?? "migrations");
    const files = existsSync(migrations) ? readdirSync(migrations).filter((file) => file.endsWith(".sql")).sort() : [];
    const command = [wrangler, "d1", "migrations", "apply", database.database_name, "--remote", "--env", chosen.env, "-c", service.path];
    if (chosen.dryRun) {
      say(`${service.name}: would apply to ${database.database_name} the migrations it lacks of ${files.length} (${files.join(", ") || "none"})`);
    } else {
      say(`${service.name}: migrating ${database.database_name}`);
      run(command);
    }
  }
  const deployConfig = join(dirname(service.path), "wrangler.deploy.toml");
  writeFileSync(deployConfig, withoutBuild(service.text));
  const outdir = chosen.dryRun ? mkdtempSync(join(tmpdir(), "dotdo-deploy-")) : null;
  try {
    const command = [wrangler, "deploy", "--env", chosen.env, "-c", deployConfig];
    if (chosen.namespace) command.push("--dispatch-namespace", chosen.namespace);
    if (outdir) command.push("--dry-run", "--outdir", outdir);
    say(`${service.name}: ${chosen.dryRun ? "deploy --dry-run" : "deploying"}`);
    const output = run(command, { capture: true });
    if (outdir) {
      const wasm = readdirSync(outdir).find((file) => file.endsWith(".wasm"));
      if (!wasm) fail(`${service.name}: the dry run produced no wasm:\n${output}`);
      done.push(`${service.name}: ready${into} (${wasm}, bindings checked by wrangler)`);
    } else {
      done.push(`${service.name}: deployed${into}`);
    }
  } finally {
    rmSync(deployConfig, { force: true });
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  }
}
say(`${mode} to ${chosen.env} finished:\n  ${done.join("\n  ")}`);
