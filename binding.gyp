{
  "targets": [
    {
      "target_name": "eucanet",
      "sources": [
        "native/addon.cc",
        "native/cold_start.cc",
        "native/common.cc",
        "native/gather_buffer.cc",
        "native/netlink_socket.cc",
        "native/netlink_subscription.cc",
        "native/netns.cc",
        "native/spawn.cc",
        "native/tap.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
