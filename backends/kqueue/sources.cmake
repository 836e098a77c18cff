# The function that builds the kqueue backends' sources, kept apart from
# CMakeLists.txt so that tests/support can include it on Linux (where this
# directory is not added) and compile the same files against the test-only
# kqueue emulation.

# unipoll_kqueue_backend_objects(<target> [INCLUDE_FIRST <dir>])
# An OBJECT library of both kqueue variants. INCLUDE_FIRST puts a directory
# with another <sys/event.h> ahead of the system's.
function(unipoll_kqueue_backend_objects target)
    cmake_parse_arguments(arg "" "INCLUDE_FIRST" "" ${ARGN})
    set(dir ${CMAKE_CURRENT_FUNCTION_LIST_DIR})
    add_library(${target} OBJECT
        ${dir}/kqueue_backend.cpp ${dir}/kqueue_wait.cpp ${dir}/kqueue_pipe.cpp
        ${dir}/kqueue_user_event.cpp)
    if(arg_INCLUDE_FIRST)
        target_include_directories(${target} BEFORE PRIVATE ${arg_INCLUDE_FIRST})
    endif()
    target_include_directories(${target} PRIVATE ${dir})
    # backend_factories.hpp declares the kqueue factories only under this.
    target_compile_definitions(${target} PRIVATE UNIPOLL_HAVE_KQUEUE=1)
    target_link_libraries(${target} PRIVATE unipoll_backend_base)
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()
