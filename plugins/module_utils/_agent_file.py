# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Edit an Agent's YAML file in place: locked, checked, atomic, every other byte kept.

Private to this collection (used by the ``agent_config`` and ``agent_private_path`` modules);
not a public API. Errors say what to change and never quote the file: it holds the API key.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import os
import tempfile
import time

from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _yaml_edit as yaml_edit


def decode(data):
    try:
        # newline="" semantics: bytes decoded as is, CRLF kept.
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise yaml_edit.YamlEditError("The file is not UTF-8 text (a byte at line %d, column %d); left untouched." % (line, column))


def read_text(path):
    with open(path, "rb") as handle:
        return decode(handle.read())


def os_problem(exc, path, doing):
    """An OSError as the change to make, without a traceback."""
    if exc.errno == errno.EROFS:
        return "%s is on a read-only file system, so it cannot be %s; nothing changed." % (path, doing)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return ("Permission denied: %s cannot be %s by this user; run the task with become: true (the Agent's "
                "datadog.yaml belongs to root or dd-agent); nothing changed." % (path, doing))
    if exc.errno == errno.ENOSPC:
        return "No space left on the device of %s, so it cannot be %s; nothing changed." % (path, doing)
    return "%s cannot be %s: %s; nothing changed." % (path, doing, exc.strerror or exc)


class LockTimeout(Exception):
    pass


def lock(path, exists, deadline):
    """An fd holding an exclusive lock for editing ``path``, or None when the file appeared or was replaced meanwhile.

    The file itself is locked (its directory while it does not exist): a run that waited
    then finds the inode it locked replaced by the previous run's rename, and starts over.
    """
    fd = os.open(path if exists else os.path.dirname(path), os.O_RDONLY)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
            if time.monotonic() >= deadline:
                raise LockTimeout()
            time.sleep(0.02)
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path)) if exists else not os.path.lexists(path)
        except FileNotFoundError:
            same = False
        if same:
            fd, locked = None, fd
            return locked
        return None
    finally:
        if fd is not None:
            os.close(fd)


def edit(module, path, settings, result, compose_service=None, create=False, backup=False, validate=None,
         lock_timeout=30):
    """Set ``settings`` in the YAML file ``path`` (check mode: predict); fail the module with what to change.

    Returns {changed, changed_keys, created, real, diff (None without --diff)}; ``result`` is what a failure reports besides its message.
    """
    # A symbolic link is followed: the target is what the Agent reads, and the link stays.
    real = os.path.realpath(path)
    if os.path.isdir(real):
        module.fail_json(msg="%s is a directory, not a YAML file." % path, **result)
    directory = os.path.dirname(real)
    if not os.path.isdir(directory):
        module.fail_json(
            msg="The directory %s of %s does not exist. Is the Agent installed on this host, and is the path right? "
            "Nothing changed." % (directory, path), **result)
    if not os.path.exists(real) and not create:
        module.fail_json(
            msg="%s does not exist. Is the Agent installed on this host, and is the path right? "
            "Set create=true to create the file with only these keys." % path,
            **result
        )

    fd = None
    exists = False
    deadline = time.monotonic() + max(lock_timeout, 0)
    try:
        while True:
            exists = os.path.exists(real)
            if not exists and not create:
                module.fail_json(msg="%s was removed while this task waited for it; nothing changed." % path, **result)
            if module.check_mode:
                break
            fd = lock(real, exists, deadline)
            if fd is not None:
                break
    except LockTimeout:
        module.fail_json(
            msg="%s is being edited by another run (it held the lock for more than %d s); nothing changed. "
            "Run again, or raise lock_timeout." % (path, lock_timeout), **result)
    except OSError as exc:
        module.fail_json(msg=os_problem(exc, real if exists else directory, "read"), **result)

    try:
        old = ""
        try:
            if exists:
                try:
                    if fd is not None:
                        with os.fdopen(os.dup(fd), "rb") as handle:
                            old = decode(handle.read())
                    else:
                        old = read_text(real)
                except OSError as exc:
                    module.fail_json(msg=os_problem(exc, path, "read"), **result)
            if compose_service:
                new, changed_keys = yaml_edit.set_compose_environment(old, compose_service, settings)
            else:
                new, changed_keys = yaml_edit.set_keys(old, settings)
        except yaml_edit.YamlEditError as exc:
            module.fail_json(msg="%s: %s" % (path, to_native(exc)), **result)
        changed = new != old or not exists
        if changed and not module.check_mode:
            write(module, path, real, exists, new, result, backup=backup, validate=validate)
    finally:
        if fd is not None:
            os.close(fd)
    diff = None
    if module._diff:  # masking a large file costs seconds: only when a diff is asked for
        diff = dict(before_header=path if exists else "/dev/null", after_header=path,
                    before=yaml_edit.mask_secrets(old), after=yaml_edit.mask_secrets(new))
    return dict(changed=changed, changed_keys=changed_keys, created=not exists, real=real, diff=diff)


def write(module, path, real, exists, new, result, backup=False, validate=None):
    """Write beside the target and rename over it: the Agent never reads a half-written file."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(real), dir=os.path.dirname(real))
    except OSError as exc:
        module.fail_json(msg=os_problem(exc, path, "written"), **result)
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(to_bytes(new, errors="surrogate_or_strict"))
        except OSError as exc:
            module.fail_json(msg=os_problem(exc, path, "written"), **result)
        if validate:
            if "%s" not in validate:
                module.fail_json(msg="validate must contain %%s: %s" % validate, **result)
            rc, out, err = module.run_command(validate % tmp)
            if rc != 0:
                module.fail_json(
                    msg="validate command failed; %s left untouched" % path, rc=rc, stdout=out, stderr=err, **result
                )
        if exists and backup:
            result["backup_file"] = module.backup_local(real)
        module.atomic_move(tmp, real, unsafe_writes=module.params.get("unsafe_writes", False))
        if not exists and module.params.get("mode") is None:
            # A new file must not be world-readable: datadog.yaml holds the API key.
            os.chmod(real, 0o640)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
