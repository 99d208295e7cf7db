{
  "targets": [
    {
      "target_name": "eve",
      "sources": ["src/addon.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "../include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O2"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "libraries": [
        "-L<(module_root_dir)/../target/release",
        "-leve",
        "-Wl,-rpath,<(module_root_dir)/../target/release"
      ]
    }
  ]
}
