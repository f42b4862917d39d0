;; LZ4 block decoder for Blosc frames (src/core/io/blosc.ts), built by scripts/build-wasm.mjs into lz4Wasm.ts.
;; lz4(ip, iend, op, oend) decodes the raw LZ4 block in memory [ip, iend) to [op, oend) and returns the bytes
;; written, or -1 when the block is malformed (a length or offset out of range). Short literals and matches are
;; copied 8 bytes at a time, so up to 16 bytes past oend may be written: the caller keeps that slack free.
;; unshuffle2(src, n, dst) undoes Blosc's byte shuffle of n 2-byte elements (n a multiple of 16): byte stream
;; [src, src+n) holds the low bytes, [src+n, src+2n) the high bytes; dst gets them interleaved.
(module
  (memory (export "memory") 1)
  (func (export "lz4") (param $ip i32) (param $iend i32) (param $op i32) (param $oend i32) (result i32)
    (local $o0 i32) (local $token i32) (local $n i32) (local $b i32) (local $off i32) (local $m i32) (local $end i32)
    (local.set $o0 (local.get $op))
    (block $done
      (loop $seq
        (br_if $done (i32.ge_u (local.get $ip) (local.get $iend)))
        (local.set $token (i32.load8_u (local.get $ip)))
        (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
        ;; literal length: 4 high bits, 15 means more bytes follow (each 255 means one more)
        (local.set $n (i32.shr_u (local.get $token) (i32.const 4)))
        (if (i32.eq (local.get $n) (i32.const 15))
          (then
            (loop $more
              (if (i32.ge_u (local.get $ip) (local.get $iend)) (then (return (i32.const -1))))
              (local.set $b (i32.load8_u (local.get $ip)))
              (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
              (local.set $n (i32.add (local.get $n) (local.get $b)))
              (br_if $more (i32.eq (local.get $b) (i32.const 255))))))
        (if (local.get $n)
          (then
            (local.set $end (i32.add (local.get $op) (local.get $n)))
            (if (i32.or
                  (i32.gt_u (i32.add (local.get $ip) (local.get $n)) (local.get $iend))
                  (i32.gt_u (local.get $end) (local.get $oend)))
              (then (return (i32.const -1))))
            (if (i32.gt_u (local.get $n) (i32.const 32))
              (then (memory.copy (local.get $op) (local.get $ip) (local.get $n)))
              (else
                ;; at most 4 words: source and target regions never overlap
                (i64.store (local.get $op) (i64.load (local.get $ip)))
                (i64.store offset=8 (local.get $op) (i64.load offset=8 (local.get $ip)))
                (if (i32.gt_u (local.get $n) (i32.const 16))
                  (then
                    (i64.store offset=16 (local.get $op) (i64.load offset=16 (local.get $ip)))
                    (i64.store offset=24 (local.get $op) (i64.load offset=24 (local.get $ip)))))))
            (local.set $ip (i32.add (local.get $ip) (local.get $n)))
            (local.set $op (local.get $end))))
        ;; the last sequence has literals only
        (br_if $done (i32.ge_u (local.get $ip) (local.get $iend)))
        (if (i32.gt_u (i32.add (local.get $ip) (i32.const 2)) (local.get $iend)) (then (return (i32.const -1))))
        (local.set $off (i32.load16_u (local.get $ip)))
        (local.set $ip (i32.add (local.get $ip) (i32.const 2)))
        (local.set $n (i32.add (i32.and (local.get $token) (i32.const 15)) (i32.const 4)))
        (if (i32.eq (local.get $n) (i32.const 19))
          (then
            (loop $more2
              (if (i32.ge_u (local.get $ip) (local.get $iend)) (then (return (i32.const -1))))
              (local.set $b (i32.load8_u (local.get $ip)))
              (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
              (local.set $n (i32.add (local.get $n) (local.get $b)))
              (br_if $more2 (i32.eq (local.get $b) (i32.const 255))))))
        (local.set $m (i32.sub (local.get $op) (local.get $off)))
        (local.set $end (i32.add (local.get $op) (local.get $n)))
        (if (i32.or
              (i32.or (i32.eqz (local.get $off)) (i32.lt_u (i32.sub (local.get $op) (local.get $o0)) (local.get $off)))
              (i32.gt_u (local.get $end) (local.get $oend)))
          (then (return (i32.const -1))))
        (if (i32.ge_u (local.get $off) (i32.const 8))
          (then
            (if (i32.gt_u (local.get $n) (i32.const 64))
              (then (if (i32.ge_u (local.get $off) (local.get $n))
                (then (memory.copy (local.get $op) (local.get $m) (local.get $n)) (local.set $op (local.get $end))))))
            ;; 8 bytes at a time: each word read lies at least 8 bytes back, so it is already written
            (block $w
              (loop $word
                (br_if $w (i32.ge_u (local.get $op) (local.get $end)))
                (i64.store (local.get $op) (i64.load (local.get $m)))
                (local.set $op (i32.add (local.get $op) (i32.const 8)))
                (local.set $m (i32.add (local.get $m) (i32.const 8)))
                (br $word))))
          (else
            ;; overlapping run (offset < 8): byte by byte, forward
            (block $bd
              (loop $byte
                (br_if $bd (i32.ge_u (local.get $op) (local.get $end)))
                (i32.store8 (local.get $op) (i32.load8_u (local.get $m)))
                (local.set $op (i32.add (local.get $op) (i32.const 1)))
                (local.set $m (i32.add (local.get $m) (i32.const 1)))
                (br $byte)))))
        (local.set $op (local.get $end))
        (br $seq)))
    (i32.sub (local.get $op) (local.get $o0)))
  (func (export "unshuffle2") (param $src i32) (param $n i32) (param $dst i32)
    (local $i i32) (local $lo v128) (local $hi v128)
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $lo (v128.load (i32.add (local.get $src) (local.get $i))))
        (local.set $hi (v128.load (i32.add (i32.add (local.get $src) (local.get $n)) (local.get $i))))
        (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1)))
          (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $lo) (local.get $hi)))
        (v128.store offset=16 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1)))
          (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $lo) (local.get $hi)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step))))
)
