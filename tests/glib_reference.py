# GLib itself, through ctypes (no python3-gi needed): the reference the studio's
# desktop integration is checked against (tests/gui/test_gui_desktop.cpp, tests/package/run.sh).
#   glib_reference.py bookmarks-write FILE   an XBEL recent list with one entry of "gedit"
#   glib_reference.py bookmarks-read FILE    uri|mime|app|exec (expanded)|count|stamp per entry
#   glib_reference.py content-type NAME      GLib's MIME type for a file name (XDG_DATA_DIRS)
import ctypes
import sys

g = ctypes.CDLL("libglib-2.0.so.0")
g.g_bookmark_file_new.restype = ctypes.c_void_p
g.g_bookmark_file_load_from_file.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
g.g_bookmark_file_to_file.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
g.g_bookmark_file_get_uris.restype = ctypes.POINTER(ctypes.c_char_p)
g.g_bookmark_file_get_uris.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
g.g_bookmark_file_get_mime_type.restype = ctypes.c_char_p
g.g_bookmark_file_get_mime_type.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
g.g_bookmark_file_get_applications.restype = ctypes.POINTER(ctypes.c_char_p)
g.g_bookmark_file_get_applications.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p]
g.g_bookmark_file_get_app_info.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_long), ctypes.c_void_p]
g.g_bookmark_file_set_mime_type.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
g.g_bookmark_file_add_application.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p]

class GError(ctypes.Structure):
    _fields_ = [("domain", ctypes.c_uint32), ("code", ctypes.c_int), ("message", ctypes.c_char_p)]

def check(ok, err):
    if not ok:
        sys.exit("GLib: " + err.contents.message.decode())

b = g.g_bookmark_file_new()
err = ctypes.POINTER(GError)()
if sys.argv[1] == "content-type":
    gio = ctypes.CDLL("libgio-2.0.so.0")
    gio.g_content_type_guess.restype = ctypes.c_char_p
    gio.g_content_type_guess.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    print(gio.g_content_type_guess(sys.argv[2].encode(), None, 0, None).decode())
elif sys.argv[1] == "bookmarks-write":
    uri = b"file:///home/u/notes.txt"
    g.g_bookmark_file_set_mime_type(b, uri, b"text/plain")
    g.g_bookmark_file_add_application(b, uri, b"gedit", b"gedit %u")
    check(g.g_bookmark_file_to_file(b, sys.argv[2].encode(), ctypes.byref(err)), err)
elif sys.argv[1] == "bookmarks-read":
    check(g.g_bookmark_file_load_from_file(b, sys.argv[2].encode(), ctypes.byref(err)), err)
    uris = g.g_bookmark_file_get_uris(b, None)
    i = 0
    while uris[i]:
        uri = uris[i]; i += 1
        mime = g.g_bookmark_file_get_mime_type(b, uri, None)
        apps = g.g_bookmark_file_get_applications(b, uri, None, None)
        j = 0
        while apps[j]:
            exe = ctypes.c_char_p(); count = ctypes.c_uint(); stamp = ctypes.c_long()
            check(g.g_bookmark_file_get_app_info(b, uri, apps[j], ctypes.byref(exe), ctypes.byref(count), ctypes.byref(stamp), ctypes.byref(err)), err)
            print("|".join([uri.decode(), mime.decode(), apps[j].decode(), exe.value.decode(), str(count.value), str(stamp.value)]))
            j += 1
else:
    sys.exit("usage: glib_reference.py bookmarks-write|bookmarks-read|content-type ARG")
