# Writes OUTPUT, a C++ file defining `extern const char SYMBOL[]` with the bytes of INPUT.
file(READ ${INPUT} hex HEX)
string(REGEX REPLACE "(..)" "0x\\1," bytes "${hex}")
file(WRITE ${OUTPUT}
  "// Generated from ${INPUT}; do not edit.\n"
  "#include <cstddef>\n"
  "namespace stacksync::engine {\n"
  "extern const char ${SYMBOL}[] = {${bytes} 0x00};\n"
  "extern const std::size_t ${SYMBOL}Size = sizeof(${SYMBOL}) - 1;\n"
  "}\n")
