# hop3 Nix expression for a Python app (template: python). `hop3 nix eject` writes it as
# hop3.nix; edit it freely, `hop3 build --builder nix` then uses your copy.
# Uses only the nixpkgs subset listed in hop3's nix/README.md.
{ pkgs ? import <nixpkgs> { }
  # The app's files, minus VCS data, local environments and this file.
, src ? builtins.path {
    path = ./.;
    name = "source";
    filter = path: _type: !(builtins.elem (baseNameOf path) [ ".git" ".hop3" ".venv" "node_modules" "__pycache__" "result" "hop3.nix" "BUILD_ARTIFACT.json" ]);
  }
  # Wheels fetched by hop3 with your pip settings (`pip wheel`), since the build has no network,
  # and hop3's WSGI server for Procfile `wsgi: module:callable` workers.
, vendor ? null
}:
let
  name = @@name@@;
  # hop3's runtime defaults (workers, env, PATH); "/@out@" stands for this output.
  runtime = @@runtime@@;
  python = pkgs.python3.withPackages (ps: [ ps.pip ]);
  # [build] packages are on the build's PATH; [run] packages' bin/ is linked into $out/bin (the workers' PATH).
  # Each is an attribute path in pkgs (hop3 maps common Debian names, e.g. libpq-dev -> postgresql).
  package = key: attrPath: builtins.foldl'
    (set: attr: if builtins.isAttrs set && builtins.hasAttr attr set then builtins.getAttr attr set
      else throw "hop3: ${key}: no package \"${attrPath}\" in the package set")
    pkgs (builtins.filter builtins.isString (builtins.split "\\." attrPath));
  buildInputs = map (package "[build] packages") @@buildPackages@@;
  runtimeInputs = map (package "[run] packages") @@runPackages@@;
in
pkgs.runCommand name { nativeBuildInputs = [ python ] ++ buildInputs; } ''
  mkdir -p $out/bin $out/hop3
  cp -r ${src} $out/app
  chmod -R u+w $out/app
  ln -s ${python}/bin/python3 $out/bin/python3
  ln -s ${python}/bin/python3 $out/bin/python
  for input in ${toString runtimeInputs}; do
    for tool in $input/bin/*; do
      [ -e "$tool" ] && [ ! -e "$out/bin/$(basename "$tool")" ] && ln -s "$tool" $out/bin/ || true
    done
  done
  export HOME=$TMPDIR PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
  python3 -m venv --without-pip $out/app/.venv
  site=$($out/app/.venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
  ${if vendor == null then "" else ''
    if [ -f ${vendor}/wsgi-server.py ]; then
      mkdir -p $out/app/.hop3 && cp ${vendor}/wsgi-server.py $out/app/.hop3/wsgi-server.py
    fi
    set -- ${vendor}/*.whl
    if [ -e "$1" ]; then
      python3 -m pip install --no-index --no-compile --find-links ${vendor} --target "$site" "$@"
    fi
  ''}
  sed "s|/@out@|$out|g" > $out/hop3/runtime.json <<'HOP3_RUNTIME'
  ${builtins.toJSON runtime}
  HOP3_RUNTIME
''
