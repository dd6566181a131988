#!/usr/bin/env bash
# The peers' setup for bench/train_step_vs_torch.py: Debian's PyTorch and numpy,
# and OpenBLAS (pthread build) as the BLAS torch finds through the alternatives
# system, instead of the reference BLAS (libblas3) a bare Debian falls back to.
# Installs what is missing (as root, through sudo, or says the apt-get line),
# then warns when libblas.so.3 still points elsewhere.  Downloads nothing but
# Debian packages.
#
#   bench/setup.sh        (the benches and bench/vs_peers.sh run it themselves)
set -euo pipefail

# shellcheck source=../scripts/bootstrap.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/bootstrap.sh"

BENCH_PACKAGES=(libopenblas0-pthread python3-torch python3-numpy)
gc_bootstrap_packages "${BENCH_PACKAGES[@]}"

alt="libblas.so.3-$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)"
blas=$(update-alternatives --query "$alt" 2>/dev/null | sed -n 's/^Value: //p')
case "$blas" in
  *openblas*) ;;
  *)
    echo "bench/setup.sh: libblas.so.3 is $blas, not OpenBLAS; as root:" >&2
    echo "  update-alternatives --auto $alt" >&2
    ;;
esac
