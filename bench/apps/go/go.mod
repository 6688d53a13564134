module fcgikit/bench/go_bench

go 1.19
