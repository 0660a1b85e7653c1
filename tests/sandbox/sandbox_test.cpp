// placeholder: the seccomp tests follow
