# hop3 Nix expression for an app run by its Procfile alone (template: generic): the files
# are copied into the store as they are. `hop3 nix eject` writes it as hop3.nix; edit it
# freely, e.g. add the packages your commands need to `runtimeInputs`.
# Uses only the nixpkgs subset listed in hop3's nix/README.md.
{ pkgs ? import <nixpkgs> { }
  # The app's files, minus VCS data and this file.
, src ? builtins.path {
    path = ./.;
    name = "source";
    filter = path: _type: !(builtins.elem (baseNameOf path) [ ".git" ".hop3" "result" "hop3.nix" "BUILD_ARTIFACT.json" ]);
  }
, vendor ? null
}:
let
  name = @@name@@;
  # hop3's runtime defaults; "/@out@" stands for this output.
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
pkgs.runCommand name { nativeBuildInputs = buildInputs; } ''
  mkdir -p $out/bin $out/hop3
  cp -r ${src} $out/app
  for input in ${toString runtimeInputs}; do
    for tool in $input/bin/*; do
      [ -e "$tool" ] && [ ! -e "$out/bin/$(basename "$tool")" ] && ln -s "$tool" $out/bin/ || true
    done
  done
  sed "s|/@out@|$out|g" > $out/hop3/runtime.json <<'HOP3_RUNTIME'
  ${builtins.toJSON runtime}
  HOP3_RUNTIME
''
