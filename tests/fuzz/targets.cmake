# The fuzz targets: one source file <target>.cpp each, seeds in corpus/<target>/.
set(fcgi_fuzz_targets
  fuzz_app_connection
  fuzz_client_connection
  fuzz_params
  fuzz_roundtrip
  fuzz_response_head
  fuzz_scoreboard)
