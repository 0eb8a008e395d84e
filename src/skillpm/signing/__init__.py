"""Signed versions: the signed statement, ssh-keygen signing, SSHSIG verification, trust."""
