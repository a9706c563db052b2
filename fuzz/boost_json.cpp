// Boost.JSON's implementation, compiled once into the fuzzers with clang and the sanitizers, so
// that the parser the project relies on is instrumented too and no g++-built library is linked.
#include <boost/json/src.hpp>
