#include "afd.hpp"

// Not declared by the SDK's winternl.h; exported by ntdll since Windows
// Vista (it is what CancelIoEx calls, taking the IO_STATUS_BLOCK of a native
// request where CancelIoEx takes an OVERLAPPED).
extern "C" NTSTATUS NTAPI NtCancelIoFileEx(HANDLE file, PIO_STATUS_BLOCK request,
                                           PIO_STATUS_BLOCK status);

namespace unipoll::detail::afd {

unsigned long win32_error(NTSTATUS status) noexcept { return ::RtlNtStatusToDosError(status); }

helper_open_result open_helper(HANDLE port, ULONG_PTR key) noexcept {
    // Any name below \Device\Afd opens the driver itself: with no extended
    // attributes no endpoint (socket) is created. The last part only names
    // the user in handle listings.
    wchar_t name[] = L"\\Device\\Afd\\Unipoll";
    UNICODE_STRING path{static_cast<USHORT>(sizeof name - sizeof name[0]),
                        static_cast<USHORT>(sizeof name), name};
    // Members by name: mingw-w64 spells out the 64-bit padding as fields.
    OBJECT_ATTRIBUTES attributes{};
    attributes.Length = sizeof attributes;
    attributes.ObjectName = &path;
    IO_STATUS_BLOCK iosb{};
    HANDLE helper = nullptr;
    const NTSTATUS status =
        ::NtCreateFile(&helper, SYNCHRONIZE, &attributes, &iosb, nullptr, 0,
                       FILE_SHARE_READ | FILE_SHARE_WRITE, FILE_OPEN, 0, nullptr, 0);
    if (status != status_success)
        return {nullptr, "NtCreateFile(\\Device\\Afd)", win32_error(status)};
    if (::CreateIoCompletionPort(helper, port, key, 0) == nullptr) {
        const unsigned long err = ::GetLastError();
        ::CloseHandle(helper);
        return {nullptr, "CreateIoCompletionPort(\\Device\\Afd)", err};
    }
    // Completions are taken from the port only; nobody waits on the handle,
    // so the kernel need not signal it on each one.
    if (!::SetFileCompletionNotificationModes(helper, FILE_SKIP_SET_EVENT_ON_HANDLE)) {
        const unsigned long err = ::GetLastError();
        ::CloseHandle(helper);
        return {nullptr, "SetFileCompletionNotificationModes", err};
    }
    return {helper, nullptr, 0};
}

NTSTATUS submit(HANDLE helper, poll_info& info, IO_STATUS_BLOCK& iosb, void* context) noexcept {
    iosb.Status = status_pending;
    // No event and no APC routine: with the helper on a completion port,
    // ApcContext becomes the packet's lpOverlapped.
    return ::NtDeviceIoControlFile(helper, nullptr, nullptr, context, &iosb, ioctl_poll, &info,
                                   sizeof info, &info, sizeof info);
}

NTSTATUS cancel(HANDLE helper, IO_STATUS_BLOCK& iosb) noexcept {
    IO_STATUS_BLOCK cancel_iosb{};
    return ::NtCancelIoFileEx(helper, &iosb, &cancel_iosb);
}

}  // namespace unipoll::detail::afd
