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
in
assert vendor != null || throw "the static template needs hop3's static server: build with `hop3 build --builder nix`";
pkgs.runCommand name { nativeBuildInputs = [ pkgs.nodejs ]; } ''
  mkdir -p $out/bin $out/hop3
  cp -r ${src} $out/app
  chmod -R u+w $out/app
  mkdir -p $out/app/.hop3
  cp ${vendor}/static-server.mjs $out/app/.hop3/static-server.mjs
  cp ${vendor}/bcrypt.mjs $out/app/.hop3/bcrypt.mjs
  ln -s ${pkgs.nodejs}/bin/node $out/bin/node
  sed "s|/@out@|$out|g" > $out/hop3/runtime.json <<'HOP3_RUNTIME'
  ${builtins.toJSON runtime}
  HOP3_RUNTIME
''
