#!/usr/bin/env bash
# Builds every emulated board and measures it. Needs qemu-system-arm and `rustup component add
# llvm-tools` (for llvm-size and llvm-nm); builds the host's `micrornn` to place the model.
#
#   firmware/measure.sh MODEL.mrnn [GEN_ARGS]
#   firmware/measure.sh CLASSIFIER.mrnn "classify NAME..."
#   BOARDS="mps2-an505" firmware/measure.sh MODEL.mrnn     # some boards only
#
# Per board: code flash (.vector_table + .text + .rodata + .data) and static RAM
# (.data + .bss + .uninit) from llvm-size; the model partition from the linker symbols;
# then the firmware runs under `qemu-system-arm -icount shift=0` (1 instruction = 1 ns)
# with MODEL in its partition (placed as the board's model store leaves it after an upload:
# `micrornn export --board B --format bin`), serves `gen 20 seed=1` (or GEN_ARGS) and `stats`: stack
# peak, static RAM and instructions per step, as the firmware measures them.
set -euo pipefail
model=$(realpath "${1:?usage: measure.sh MODEL.mrnn [GEN_ARGS]}")
cd "$(dirname "$0")"
gen_args=${2:-20 seed=1}
# The command to measure: `classify …` as given, anything else as arguments of `gen`.
case $gen_args in
    classify*) command=$gen_args ;;
    *) command="gen $gen_args" ;;
esac
bin=$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin
[[ -x $bin/llvm-size ]] || { echo "needs llvm-size: rustup component add llvm-tools" >&2; exit 1; }

# Section sizes of an ELF: "flash ram" in bytes.
sizes() {
    "$bin/llvm-size" -A "$1" | awk '
        $1 ~ /^\.(vector_table|text|rodata)$/ { flash += $2 }
        $1 == ".data" { flash += $2; ram += $2 }
        $1 ~ /^\.(bss|uninit)$/ { ram += $2 }
        END { print flash, ram }'
}

# Address of a symbol in an ELF.
symbol() {
    "$bin/llvm-nm" "$1" | awk -v s="$2" '$3 == s { print "0x" $1 }'
}

# The model as the board's model store holds it: raw bytes from the partition's start.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
placed() { # board
    (cd .. && cargo run --quiet --release -p micrornn-trainer -- export --board "$1" \
        --model "$model" --format bin --out "$work/$1.bin" >/dev/null)
    echo "$work/$1.bin"
}

# Runs the firmware with the partition file and prints the session's replies to gen and stats.
session() { # elf machine partition_addr partition_file
    coproc QEMU { exec qemu-system-arm -machine "$2" -display none -monitor none \
        -serial stdio -semihosting-config enable=on,target=native -icount shift=0 \
        -kernel "$1" -device "loader,file=$4,addr=$3,force-raw=on" 2>&1; }
    local out in line
    # Plain copies of the coprocess's pipes (bash closes its own in subshells).
    exec {out}<&"${QEMU[0]}" {in}>&"${QEMU[1]}"
    reply() { # prints lines up to and including ok / err
        while IFS= read -r -t 120 line <&"$out"; do
            line=${line%$'\r'}
            echo "$line"
            [[ $line == ok || $line == err* ]] && return 0
        done
        return 1
    }
    printf 'echo off\r' >&"$in"; reply >/dev/null
    printf '%s\r' "$command" >&"$in"; reply | tail -n 1
    printf 'stats\r' >&"$in"; reply
    kill "$QEMU_PID" 2>/dev/null || true
    exec {out}<&- {in}>&-
}

echo "model: $model ($(stat -c %s "$model") bytes), $command"
for board in ${BOARDS:-mps2-an386 mps2-an505 microbit}; do
    case $board in
        mps2-an386) target=thumbv7em-none-eabihf; profile=release ;;
        mps2-an505) target=thumbv8m.main-none-eabihf; profile=release ;;
        microbit) target=thumbv6m-none-eabi; profile=release-size ;;
        *) echo "unknown board $board" >&2; exit 1 ;;
    esac
    cargo build --profile "$profile" --quiet --target "$target" --bin firmware
    elf=target/$target/$profile/firmware
    read -r flash ram < <(sizes "$elf")
    start=$(symbol "$elf" __model_start)
    end=$(symbol "$elf" __model_end)
    echo "== $board ($target)"
    echo "code flash $flash bytes, static RAM $ram bytes, model partition $start, $((end - start)) bytes"
    session "$elf" "$board" "$start" "$(placed "$board")" | sed 's/^/  /'
done
