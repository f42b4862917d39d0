"""Reference timings for bench/read.mjs: tifffile.imread of whole stacks (tifffile's defaults, threads included).

usage: /usr/bin/python3 bench/read_ref.py --serve       then one file path per stdin line -> one JSON line
                                                         {"seconds": s, "cpu": s, "bytes": n} per path (interleaved timing)
       /usr/bin/python3 bench/read_ref.py --open FILE    -> JSON {"open_s": s, "pages": n}
"""
import json, sys, time
import tifffile

if sys.argv[1] == '--open':
    t0 = time.perf_counter()
    with tifffile.TiffFile(sys.argv[2]) as tif:
        n = len(tif.pages)
    print(json.dumps({'open_s': time.perf_counter() - t0, 'pages': n}))
    sys.exit(0)

print(json.dumps({'ready': tifffile.__version__}), flush=True)
for line in sys.stdin:
    path = line.strip()
    if not path:
        continue
    c0 = time.process_time()
    t0 = time.perf_counter()
    a = tifffile.imread(path)
    print(json.dumps({'seconds': time.perf_counter() - t0, 'cpu': time.process_time() - c0, 'bytes': a.nbytes}), flush=True)
    del a
