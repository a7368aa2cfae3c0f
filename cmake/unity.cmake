# Unity (jumbo) builds for the engine's libraries: each batch of up to 8
# sources compiles as one translation unit, so Boost, RocksDB, yaml-cpp and
# {fmt} headers are parsed once per batch instead of once per file. On the
# 2-core CI machine this halves the CPU of the libraries (measured on
# gsoc_correlate + gsoc_rules + gsoc_match: 108 s -> 45 s of CPU).
#
# Only the libraries listed here build this way. A source whose file-local
# names (anonymous namespace, static) clash with a neighbour's is listed in
# GSOC_UNITY_EXCLUDE, or the clash is renamed. Libraries whose files all
# register under the same local names (the *_config.cc sections, the API
# routes) stay per-file. Turn it off with -DGSOC_UNITY=OFF to check that
# every file still compiles on its own.
option(GSOC_UNITY "Unity-build the engine libraries" ON)

set(GSOC_UNITY_TARGETS
  gsoc_event gsoc_engine gsoc_alert gsoc_detect gsoc_decode gsoc_rules gsoc_output
  gsoc_correlate gsoc_match gsoc_store gsoc_triage gsoc_parsers gsoc_agency gsoc_listeners
  gsoc_ctl_lib gsoc_indicators gsoc_aggregate gsoc_auth gsoc_loadgen_lib)

# target:source pairs that compile on their own. decoder.cc: its pimpl holds
# file-local types, which GCC (-Wsubobject-linkage) flags once the file is
# included into a unity source.
set(GSOC_UNITY_EXCLUDE
  gsoc_correlate:engine/correlate/window.cc
  gsoc_decode:engine/decode/decoder.cc
  gsoc_loadgen_lib:tools/loadgen/tls_channel.cc)

function(gsoc_enable_unity)
  if(NOT GSOC_UNITY)
    return()
  endif()
  foreach(target IN LISTS GSOC_UNITY_TARGETS)
    if(TARGET ${target})
      set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
    endif()
  endforeach()
  foreach(pair IN LISTS GSOC_UNITY_EXCLUDE)
    string(REPLACE ":" ";" parts "${pair}")
    list(GET parts 0 target)
    list(GET parts 1 source)
    if(TARGET ${target})
      set_source_files_properties("${PROJECT_SOURCE_DIR}/${source}" TARGET_DIRECTORY ${target}
        PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
    endif()
  endforeach()
endfunction()
