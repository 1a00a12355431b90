# hop3 Nix expression for a static site (template: static), served by hop3's small
# Node static server. `hop3 nix eject` writes it as hop3.nix; edit it freely.
# Uses only the nixpkgs subset listed in hop3's nix/README.md.
{ pkgs ? import <nixpkgs> { }
  # The site's files, minus VCS data and this file.
, src ? builtins.path {
    path = ./.;
    name = "source";
    filter = path: _type: !(builtins.elem (baseNameOf path) [ ".git" ".hop3" "node_modules" "result" "hop3.nix" "BUILD_ARTIFACT.json" ]);
  }
  # hop3 puts its static server (static-server.mjs) and bcryptjs (bcrypt.mjs, for Staticfile.auth) here.
, vendor ? null
}:
let
  name = @@name@@;
  # hop3's runtime defaults (the server worker, static paths); "/@out@" stands for this output.
  runtime = @@runtime@@;
  # [build] packages are on the build's PATH; [run] packages' bin/ is linked into $out/bin (the workers' PATH).
  # Each is an attribute path in pkgs (hop3 maps common Debian names, e.g. libpq-dev -> postgresql).
  package = key: attrPath: builtins.foldl'
    (set: attr: if builtins.isAttrs set && builtins.hasAttr attr set then builtins.getAttr attr set
      else throw "hop3: ${key}: no package \"${attrPath}\" in the package set")
    pkgs (builtins.filter builtins.isString (builtins.split "\\." attrPath));
  buildInputs = map (package "[build] packages") @@buildPackages@@;
  runtimeInputs = map (package "[run] packages") @@runPackages@@;
in
assert vendor != null || throw "the static template needs hop3's static server: build with `hop3 build --builder nix`";
pkgs.runCommand name { nativeBuildInputs = [ pkgs.nodejs ] ++ buildInputs; } ''
  mkdir -p $out/bin $out/hop3
  cp -r ${src} $out/app
  chmod -R u+w $out/app
  mkdir -p $out/app/.hop3
  cp ${vendor}/static-server.mjs $out/app/.hop3/static-server.mjs
  cp ${vendor}/bcrypt.mjs $out/app/.hop3/bcrypt.mjs
  ln -s ${pkgs.nodejs}/bin/node $out/bin/node
  for input in ${toString runtimeInputs}; do
    for tool in $input/bin/*; do
      [ -e "$tool" ] && [ ! -e "$out/bin/$(basename "$tool")" ] && ln -s "$tool" $out/bin/ || true
    done
  done
  sed "s|/@out@|$out|g" > $out/hop3/runtime.json <<'HOP3_RUNTIME'
  ${builtins.toJSON runtime}
  HOP3_RUNTIME
''
