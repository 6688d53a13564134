// fcgi::protocol: the sans-IO FastCGI 1.0 codec and connection state machines.
#pragma once

#include <fcgi/protocol/app_connection.hpp>
#include <fcgi/protocol/cgi_params.hpp>
#include <fcgi/protocol/client_connection.hpp>
#include <fcgi/protocol/errc.hpp>
#include <fcgi/protocol/output_queue.hpp>
#include <fcgi/protocol/params.hpp>
#include <fcgi/protocol/record.hpp>
#include <fcgi/protocol/record_reader.hpp>
#include <fcgi/protocol/response_head.hpp>
