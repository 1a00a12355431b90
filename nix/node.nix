# hop3 Nix expression for a Node.js app (template: node). `hop3 nix eject` writes it as
# hop3.nix; edit it freely, `hop3 build --builder nix` then uses your copy.
# Uses only the nixpkgs subset listed in hop3's nix/README.md.
{ pkgs ? import <nixpkgs> { }
  # The app's files, minus VCS data, local environments and this file.
, src ? builtins.path {
    path = ./.;
    name = "source";
    filter = path: _type: !(builtins.elem (baseNameOf path) [ ".git" ".hop3" ".venv" "node_modules" "result" "hop3.nix" "BUILD_ARTIFACT.json" ]);
  }
  # npm runs offline, so dependencies must be `file:` ones or in npm's cache. hop3 puts its static
  # server (static-server.mjs) here when the app is a site its build makes (no start script), and
  # the lockfile's registry tarballs in npm-cache/ (fetched on the host, integrity checked).
, vendor ? null
}:
let
  name = @@name@@;
  # hop3's runtime defaults (workers, env, PATH); "/@out@" stands for this output.
  runtime = @@runtime@@;
  # `npm ci` with a lockfile, else `npm install`.
  install = @@install@@;
  # package.json scripts run as on Heroku: heroku-prebuild before the install, the build script
  # (heroku-postbuild instead of build when it exists, null for none), heroku-cleanup last.
  prebuild = @@prebuild@@;
  buildScript = @@buildScript@@;
  cleanup = @@cleanup@@;
  # Whether the web worker is hop3's static server, serving what the build made.
  staticServer = @@staticServer@@;
  npmFlags = "--offline --no-audit --no-fund --no-update-notifier";
  # [build] packages are on the build's PATH; [run] packages' bin/ is linked into $out/bin (the workers' PATH).
  # Each is an attribute path in pkgs (hop3 maps common Debian names, e.g. libpq-dev -> postgresql).
  package = key: attrPath: builtins.foldl'
    (set: attr: if builtins.isAttrs set && builtins.hasAttr attr set then builtins.getAttr attr set
      else throw "hop3: ${key}: no package \"${attrPath}\" in the package set")
    pkgs (builtins.filter builtins.isString (builtins.split "\\." attrPath));
  buildInputs = map (package "[build] packages") @@buildPackages@@;
  runtimeInputs = map (package "[run] packages") @@runPackages@@;
in
assert staticServer -> vendor != null || throw "this app is served by hop3's static server: build with `hop3 build --builder nix`";
pkgs.runCommand name { nativeBuildInputs = [ pkgs.nodejs ] ++ buildInputs; } ''
  mkdir -p $out/bin $out/hop3
  cp -r ${src} $out/app
  chmod -R u+w $out/app
  ln -s ${pkgs.nodejs}/bin/node $out/bin/node
  for input in ${toString runtimeInputs}; do
    for tool in $input/bin/*; do
      [ -e "$tool" ] && [ ! -e "$out/bin/$(basename "$tool")" ] && ln -s "$tool" $out/bin/ || true
    done
  done
  cd $out/app
  export HOME=$TMPDIR npm_config_cache=$TMPDIR/npm-cache
  ${if vendor != null && builtins.pathExists (vendor + "/npm-cache") then "cp -r ${vendor}/npm-cache $TMPDIR/npm-cache && chmod -R u+w $TMPDIR/npm-cache" else ""}
  ${if prebuild then "npm run heroku-prebuild" else ""}
  npm ${install} ${npmFlags}
  ${if buildScript != null then "npm run ${buildScript}" else ""}
  npm prune --omit=dev ${npmFlags}
  ${if cleanup then "npm run heroku-cleanup" else ""}
  ${if staticServer then "mkdir -p .hop3 && cp ${vendor}/static-server.mjs .hop3/static-server.mjs" else ""}
  sed "s|/@out@|$out|g" > $out/hop3/runtime.json <<'HOP3_RUNTIME'
  ${builtins.toJSON runtime}
  HOP3_RUNTIME
''
