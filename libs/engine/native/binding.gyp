{
  "targets": [
    {
      "target_name": "lrscape_blas",
      "sources": ["src/lrscape_blas.c"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS=='mac'", {
          "defines": ["LRSCAPE_ACCELERATE", "ACCELERATE_NEW_LAPACK"],
          "libraries": ["-framework Accelerate"],
          "xcode_settings": { "OTHER_CFLAGS": ["-O2", "-std=c11"] }
        }, {
          "libraries": ["-lopenblas", "-lpthread"]
        }]
      ]
    }
  ]
}
