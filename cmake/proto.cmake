# The wire contract as the static library sentinel_proto: protoc-c generates
# C at build time from proto/ (Timestamp/Empty from the system's well-known
# protos, which libprotobuf-c does not ship compiled). Included by the main
# build and by the fuzz build (test/fuzz/), so both compile the same thing.
get_filename_component(SENTINEL_SRC ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PROTOBUF_C REQUIRED IMPORTED_TARGET libprotobuf-c)
find_program(PROTOC_C protoc-c REQUIRED)
find_path(WKT_PROTO_DIR google/protobuf/timestamp.proto PATHS /usr/include REQUIRED)
set(PROTO_OUT ${CMAKE_BINARY_DIR}/proto)
set(PROTO_FILES
	${SENTINEL_SRC}/proto/events.proto
	${SENTINEL_SRC}/proto/grpc/health/v1/health.proto
	${WKT_PROTO_DIR}/google/protobuf/timestamp.proto
	${WKT_PROTO_DIR}/google/protobuf/empty.proto)
set(PROTO_SRCS
	${PROTO_OUT}/events.pb-c.c
	${PROTO_OUT}/grpc/health/v1/health.pb-c.c
	${PROTO_OUT}/google/protobuf/timestamp.pb-c.c
	${PROTO_OUT}/google/protobuf/empty.pb-c.c)
add_custom_command(
	OUTPUT ${PROTO_SRCS}
	COMMAND ${CMAKE_COMMAND} -E make_directory ${PROTO_OUT}
	COMMAND ${PROTOC_C} --c_out=${PROTO_OUT} -I${SENTINEL_SRC}/proto -I${WKT_PROTO_DIR}
		${PROTO_FILES}
	DEPENDS ${PROTO_FILES}
	COMMENT "Generating protobuf-c code"
	VERBATIM)
add_library(sentinel_proto STATIC ${PROTO_SRCS})
target_include_directories(sentinel_proto PUBLIC ${PROTO_OUT})
target_link_libraries(sentinel_proto PUBLIC PkgConfig::PROTOBUF_C)
# generated code is not ours to warn about
target_compile_options(sentinel_proto PRIVATE -w)
