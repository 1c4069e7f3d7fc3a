# bash completion for sftpgo                                  -*- shell-script -*-
# Generated from the command tree by `sftpgo completion bash`; do not edit.
# Install: source it from ~/.bashrc, or copy it to /usr/share/bash-completion/completions/sftpgo

__sftpgo_resolve() {
  case "$1|$2" in
    '|serve') echo 'serve' ;;
    '|initprovider') echo 'initprovider' ;;
    '|startsubsys') echo 'startsubsys' ;;
    '|revertprovider') echo 'revertprovider' ;;
    '|portable') echo 'portable' ;;
    '|users') echo 'users' ;;
    '|folders') echo 'folders' ;;
    '|admins') echo 'admins' ;;
    '|quota') echo 'quota' ;;
    '|dump') echo 'dump' ;;
    '|load') echo 'load' ;;
    '|defender') echo 'defender' ;;
    '|connections') echo 'connections' ;;
    '|status') echo 'status' ;;
    '|version') echo 'version' ;;
    '|health') echo 'health' ;;
    '|login') echo 'login' ;;
    '|logout') echo 'logout' ;;
    '|top') echo 'top' ;;
    '|completion') echo 'completion' ;;
    '|gen') echo 'gen' ;;
    'users|list'|'users|ls') echo 'list' ;;
    'users|get'|'users|show') echo 'get' ;;
    'users|add'|'users|create') echo 'add' ;;
    'users|update'|'users|edit') echo 'update' ;;
    'users|delete'|'users|rm') echo 'delete' ;;
    'users|disable') echo 'disable' ;;
    'users|enable') echo 'enable' ;;
    'folders|list'|'folders|ls') echo 'list' ;;
    'folders|get'|'folders|show') echo 'get' ;;
    'folders|add'|'folders|create') echo 'add' ;;
    'folders|update'|'folders|edit') echo 'update' ;;
    'folders|delete'|'folders|rm') echo 'delete' ;;
    'admins|list'|'admins|ls') echo 'list' ;;
    'admins|get'|'admins|show') echo 'get' ;;
    'admins|add'|'admins|create') echo 'add' ;;
    'admins|update'|'admins|edit') echo 'update' ;;
    'admins|delete'|'admins|rm') echo 'delete' ;;
    'admins|passwd') echo 'passwd' ;;
    'quota|scan') echo 'scan' ;;
    'quota|scans') echo 'scans' ;;
    'quota|set') echo 'set' ;;
    'quota|add') echo 'add' ;;
    'defender|list'|'defender|ls') echo 'list' ;;
    'defender|get'|'defender|show') echo 'get' ;;
    'defender|unban') echo 'unban' ;;
    'connections|list'|'connections|ls') echo 'list' ;;
    'connections|close'|'connections|kill') echo 'close' ;;
    'gen|completion') echo 'completion' ;;
    'gen|man') echo 'man' ;;
  esac
}

__sftpgo_subcommands() {
  case "$1" in
    '') echo 'serve initprovider startsubsys revertprovider portable users folders admins quota dump load defender connections status version health login logout top completion gen' ;;
    'users') echo 'list get add update delete disable enable' ;;
    'folders') echo 'list get add update delete' ;;
    'admins') echo 'list get add update delete passwd' ;;
    'quota') echo 'scan scans set add' ;;
    'defender') echo 'list get unban' ;;
    'connections') echo 'list close' ;;
    'gen') echo 'completion man' ;;
  esac
}

__sftpgo_options() {
  case "$1" in
    '') echo '-v --version -h --help' ;;
    'serve') echo '-c --config-dir --config-file -l --log-file-path -s --log-max-size -b --log-max-backups -a --log-max-age -z --log-compress -v --log-verbose --loaddata-from --loaddata-mode --loaddata-scan --loaddata-clean -h --help' ;;
    'initprovider') echo '-c --config-dir --config-file -h --help' ;;
    'startsubsys') echo '-c --config-dir --config-file -p --preserve-home -d --base-home-dir -j --log-to-journald -l --log-file-path -v --log-verbose -h --help' ;;
    'revertprovider') echo '-c --config-dir --config-file --to-version -h --help' ;;
    'portable') echo '-d --directory -s --sftpd-port --ftpd-port --webdav-port --bind-address -c --ssh-commands -u --username -p --password -k --public-key -g --permissions --allowed-patterns --denied-patterns -l --log-file-path -v --log-verbose -S --advertise-service -C --advertise-credentials --ftpd-cert --ftpd-key --webdav-cert --webdav-key -f --fs-provider --s3-bucket --s3-region --s3-access-key --s3-access-secret --s3-endpoint --s3-storage-class --s3-key-prefix --s3-upload-part-size --s3-upload-concurrency --gcs-bucket --gcs-storage-class --gcs-key-prefix --gcs-credentials-file --gcs-automatic-credentials --az-container --az-account-name --az-account-key --az-sas-url --az-endpoint --az-access-tier --az-key-prefix --az-upload-part-size --az-upload-concurrency --az-use-emulator --crypto-passphrase --sftp-endpoint --sftp-username --sftp-password --sftp-key-path --sftp-prefix --sftp-fingerprints --sftp-disable-concurrent-reads --sftp-buffer-size -h --help' ;;
    'users') echo '-h --help' ;;
    'users list') echo '--limit --offset --order --all --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'users get') echo '--url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'users add') echo '--from-file --password --home-dir --public-key --perm --quota-size --quota-files --upload-bandwidth --download-bandwidth --max-sessions --expiration-date --status --description --additional-info --uid --gid --allowed-ip --denied-ip --denied-protocols --denied-login-methods --max-upload-file-size --fs-provider --s3-bucket --s3-region --s3-access-key --s3-access-secret --s3-endpoint --s3-storage-class --s3-key-prefix --s3-upload-part-size --s3-upload-concurrency --gcs-bucket --gcs-credentials-file --gcs-automatic-credentials --gcs-storage-class --gcs-key-prefix --az-container --az-account-name --az-account-key --az-sas-url --az-endpoint --az-key-prefix --az-access-tier --az-upload-part-size --az-upload-concurrency --az-use-emulator --crypt-passphrase --sftp-endpoint --sftp-username --sftp-password --sftp-private-key-file --sftp-fingerprint --sftp-prefix --sftp-disable-concurrent-reads --sftp-buffer-size --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'users update') echo '--disconnect --from-file --password --home-dir --public-key --perm --quota-size --quota-files --upload-bandwidth --download-bandwidth --max-sessions --expiration-date --status --description --additional-info --uid --gid --allowed-ip --denied-ip --denied-protocols --denied-login-methods --max-upload-file-size --fs-provider --s3-bucket --s3-region --s3-access-key --s3-access-secret --s3-endpoint --s3-storage-class --s3-key-prefix --s3-upload-part-size --s3-upload-concurrency --gcs-bucket --gcs-credentials-file --gcs-automatic-credentials --gcs-storage-class --gcs-key-prefix --az-container --az-account-name --az-account-key --az-sas-url --az-endpoint --az-key-prefix --az-access-tier --az-upload-part-size --az-upload-concurrency --az-use-emulator --crypt-passphrase --sftp-endpoint --sftp-username --sftp-password --sftp-private-key-file --sftp-fingerprint --sftp-prefix --sftp-disable-concurrent-reads --sftp-buffer-size --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'users delete') echo '--url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'users disable') echo '--disconnect --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'users enable') echo '--disconnect --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'folders') echo '-h --help' ;;
    'folders list') echo '--limit --offset --order --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'folders get') echo '--url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'folders add') echo '--from-file --mapped-path --description --fs-provider --s3-bucket --s3-region --s3-access-key --s3-access-secret --s3-endpoint --s3-storage-class --s3-key-prefix --s3-upload-part-size --s3-upload-concurrency --gcs-bucket --gcs-credentials-file --gcs-automatic-credentials --gcs-storage-class --gcs-key-prefix --az-container --az-account-name --az-account-key --az-sas-url --az-endpoint --az-key-prefix --az-access-tier --az-upload-part-size --az-upload-concurrency --az-use-emulator --crypt-passphrase --sftp-endpoint --sftp-username --sftp-password --sftp-private-key-file --sftp-fingerprint --sftp-prefix --sftp-disable-concurrent-reads --sftp-buffer-size --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'folders update') echo '--from-file --mapped-path --description --fs-provider --s3-bucket --s3-region --s3-access-key --s3-access-secret --s3-endpoint --s3-storage-class --s3-key-prefix --s3-upload-part-size --s3-upload-concurrency --gcs-bucket --gcs-credentials-file --gcs-automatic-credentials --gcs-storage-class --gcs-key-prefix --az-container --az-account-name --az-account-key --az-sas-url --az-endpoint --az-key-prefix --az-access-tier --az-upload-part-size --az-upload-concurrency --az-use-emulator --crypt-passphrase --sftp-endpoint --sftp-username --sftp-password --sftp-private-key-file --sftp-fingerprint --sftp-prefix --sftp-disable-concurrent-reads --sftp-buffer-size --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'folders delete') echo '--url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'admins') echo '-h --help' ;;
    'admins list') echo '--limit --offset --order --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'admins get') echo '--url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'admins add') echo '--from-file --password --email --permission --allow-list --status --description --additional-info --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'admins update') echo '--from-file --password --email --permission --allow-list --status --description --additional-info --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'admins delete') echo '--url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'admins passwd') echo '--new-password-file --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'quota') echo '-h --help' ;;
    'quota scan') echo '--wait --interval --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'quota scans') echo '--url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'quota set') echo '--size --files --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'quota add') echo '--size --files --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'dump') echo '--output-file --indent --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'load') echo '--server-path --mode --scan-quota --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'defender') echo '-h --help' ;;
    'defender list') echo '--url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'defender get') echo '--url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'defender unban') echo '--url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'connections') echo '-h --help' ;;
    'connections list') echo '--url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'connections close') echo '--url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'status') echo '--url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'version') echo '--url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'health') echo '--url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'login') echo '--url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'logout') echo '--url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'top') echo '--interval --url --username --password-file --json -q --quiet -y --yes -h --help' ;;
    'completion') echo '-h --help' ;;
    'gen') echo '-h --help' ;;
    'gen completion') echo '-h --help' ;;
    'gen man') echo '-d --dir -h --help' ;;
  esac
}

__sftpgo_value_options() {
  case "$1" in
    'serve') echo '-c --config-dir --config-file -l --log-file-path -s --log-max-size -b --log-max-backups -a --log-max-age -z --log-compress -v --log-verbose --loaddata-from --loaddata-mode --loaddata-scan --loaddata-clean' ;;
    'initprovider') echo '-c --config-dir --config-file' ;;
    'startsubsys') echo '-c --config-dir --config-file -p --preserve-home -d --base-home-dir -j --log-to-journald -l --log-file-path -v --log-verbose' ;;
    'revertprovider') echo '-c --config-dir --config-file --to-version' ;;
    'portable') echo '-d --directory -s --sftpd-port --ftpd-port --webdav-port --bind-address -c --ssh-commands -u --username -p --password -k --public-key -g --permissions --allowed-patterns --denied-patterns -l --log-file-path -v --log-verbose -S --advertise-service -C --advertise-credentials --ftpd-cert --ftpd-key --webdav-cert --webdav-key -f --fs-provider --s3-bucket --s3-region --s3-access-key --s3-access-secret --s3-endpoint --s3-storage-class --s3-key-prefix --s3-upload-part-size --s3-upload-concurrency --gcs-bucket --gcs-storage-class --gcs-key-prefix --gcs-credentials-file --gcs-automatic-credentials --az-container --az-account-name --az-account-key --az-sas-url --az-endpoint --az-access-tier --az-key-prefix --az-upload-part-size --az-upload-concurrency --az-use-emulator --crypto-passphrase --sftp-endpoint --sftp-username --sftp-password --sftp-key-path --sftp-prefix --sftp-fingerprints --sftp-disable-concurrent-reads --sftp-buffer-size' ;;
    'users list') echo '--limit --offset --order --url --username --password-file' ;;
    'users get') echo '--url --username --password-file' ;;
    'users add') echo '--from-file --password --home-dir --public-key --perm --quota-size --quota-files --upload-bandwidth --download-bandwidth --max-sessions --expiration-date --status --description --additional-info --uid --gid --allowed-ip --denied-ip --denied-protocols --denied-login-methods --max-upload-file-size --fs-provider --s3-bucket --s3-region --s3-access-key --s3-access-secret --s3-endpoint --s3-storage-class --s3-key-prefix --s3-upload-part-size --s3-upload-concurrency --gcs-bucket --gcs-credentials-file --gcs-storage-class --gcs-key-prefix --az-container --az-account-name --az-account-key --az-sas-url --az-endpoint --az-key-prefix --az-access-tier --az-upload-part-size --az-upload-concurrency --crypt-passphrase --sftp-endpoint --sftp-username --sftp-password --sftp-private-key-file --sftp-fingerprint --sftp-prefix --sftp-buffer-size --url --username --password-file' ;;
    'users update') echo '--from-file --password --home-dir --public-key --perm --quota-size --quota-files --upload-bandwidth --download-bandwidth --max-sessions --expiration-date --status --description --additional-info --uid --gid --allowed-ip --denied-ip --denied-protocols --denied-login-methods --max-upload-file-size --fs-provider --s3-bucket --s3-region --s3-access-key --s3-access-secret --s3-endpoint --s3-storage-class --s3-key-prefix --s3-upload-part-size --s3-upload-concurrency --gcs-bucket --gcs-credentials-file --gcs-storage-class --gcs-key-prefix --az-container --az-account-name --az-account-key --az-sas-url --az-endpoint --az-key-prefix --az-access-tier --az-upload-part-size --az-upload-concurrency --crypt-passphrase --sftp-endpoint --sftp-username --sftp-password --sftp-private-key-file --sftp-fingerprint --sftp-prefix --sftp-buffer-size --url --username --password-file' ;;
    'users delete') echo '--url --username --password-file' ;;
    'users disable') echo '--url --username --password-file' ;;
    'users enable') echo '--url --username --password-file' ;;
    'folders list') echo '--limit --offset --order --url --username --password-file' ;;
    'folders get') echo '--url --username --password-file' ;;
    'folders add') echo '--from-file --mapped-path --description --fs-provider --s3-bucket --s3-region --s3-access-key --s3-access-secret --s3-endpoint --s3-storage-class --s3-key-prefix --s3-upload-part-size --s3-upload-concurrency --gcs-bucket --gcs-credentials-file --gcs-storage-class --gcs-key-prefix --az-container --az-account-name --az-account-key --az-sas-url --az-endpoint --az-key-prefix --az-access-tier --az-upload-part-size --az-upload-concurrency --crypt-passphrase --sftp-endpoint --sftp-username --sftp-password --sftp-private-key-file --sftp-fingerprint --sftp-prefix --sftp-buffer-size --url --username --password-file' ;;
    'folders update') echo '--from-file --mapped-path --description --fs-provider --s3-bucket --s3-region --s3-access-key --s3-access-secret --s3-endpoint --s3-storage-class --s3-key-prefix --s3-upload-part-size --s3-upload-concurrency --gcs-bucket --gcs-credentials-file --gcs-storage-class --gcs-key-prefix --az-container --az-account-name --az-account-key --az-sas-url --az-endpoint --az-key-prefix --az-access-tier --az-upload-part-size --az-upload-concurrency --crypt-passphrase --sftp-endpoint --sftp-username --sftp-password --sftp-private-key-file --sftp-fingerprint --sftp-prefix --sftp-buffer-size --url --username --password-file' ;;
    'folders delete') echo '--url --username --password-file' ;;
    'admins list') echo '--limit --offset --order --url --username --password-file' ;;
    'admins get') echo '--url --username --password-file' ;;
    'admins add') echo '--from-file --password --email --permission --allow-list --status --description --additional-info --url --username --password-file' ;;
    'admins update') echo '--from-file --password --email --permission --allow-list --status --description --additional-info --url --username --password-file' ;;
    'admins delete') echo '--url --username --password-file' ;;
    'admins passwd') echo '--new-password-file --url --username --password-file' ;;
    'quota scan') echo '--interval --url --username --password-file' ;;
    'quota scans') echo '--url --username --password-file' ;;
    'quota set') echo '--size --files --url --username --password-file' ;;
    'quota add') echo '--size --files --url --username --password-file' ;;
    'dump') echo '--output-file --url --username --password-file' ;;
    'load') echo '--server-path --mode --scan-quota --url --username --password-file' ;;
    'defender list') echo '--url --username --password-file' ;;
    'defender get') echo '--url --username --password-file' ;;
    'defender unban') echo '--url --username --password-file' ;;
    'connections list') echo '--url --username --password-file' ;;
    'connections close') echo '--url --username --password-file' ;;
    'status') echo '--url --username --password-file' ;;
    'version') echo '--url --username --password-file' ;;
    'health') echo '--url --username --password-file' ;;
    'login') echo '--url --username --password-file' ;;
    'logout') echo '--url --username --password-file' ;;
    'top') echo '--interval --url --username --password-file' ;;
    'gen man') echo '-d --dir' ;;
  esac
}

__sftpgo_option_values() {
  case "$1|$2" in
    'serve|-c'|'serve|--config-dir') echo 'file' ;;
    'serve|--config-file') echo 'file' ;;
    'initprovider|-c'|'initprovider|--config-dir') echo 'file' ;;
    'initprovider|--config-file') echo 'file' ;;
    'startsubsys|-c'|'startsubsys|--config-dir') echo 'file' ;;
    'startsubsys|--config-file') echo 'file' ;;
    'revertprovider|-c'|'revertprovider|--config-dir') echo 'file' ;;
    'revertprovider|--config-file') echo 'file' ;;
    'portable|--gcs-credentials-file') echo 'file' ;;
    'users list|--order') echo 'words ASC DESC' ;;
    'users list|--password-file') echo 'file' ;;
    'users get|--password-file') echo 'file' ;;
    'users add|--from-file') echo 'file' ;;
    'users add|--status') echo 'words enabled disabled' ;;
    'users add|--fs-provider') echo 'words local s3 gcs azblob crypt sftp' ;;
    'users add|--gcs-credentials-file') echo 'file' ;;
    'users add|--az-access-tier') echo 'words Hot Cool Archive' ;;
    'users add|--sftp-private-key-file') echo 'file' ;;
    'users add|--password-file') echo 'file' ;;
    'users update|--from-file') echo 'file' ;;
    'users update|--status') echo 'words enabled disabled' ;;
    'users update|--fs-provider') echo 'words local s3 gcs azblob crypt sftp' ;;
    'users update|--gcs-credentials-file') echo 'file' ;;
    'users update|--az-access-tier') echo 'words Hot Cool Archive' ;;
    'users update|--sftp-private-key-file') echo 'file' ;;
    'users update|--password-file') echo 'file' ;;
    'users delete|--password-file') echo 'file' ;;
    'users disable|--password-file') echo 'file' ;;
    'users enable|--password-file') echo 'file' ;;
    'folders list|--order') echo 'words ASC DESC' ;;
    'folders list|--password-file') echo 'file' ;;
    'folders get|--password-file') echo 'file' ;;
    'folders add|--from-file') echo 'file' ;;
    'folders add|--fs-provider') echo 'words local s3 gcs azblob crypt sftp' ;;
    'folders add|--gcs-credentials-file') echo 'file' ;;
    'folders add|--az-access-tier') echo 'words Hot Cool Archive' ;;
    'folders add|--sftp-private-key-file') echo 'file' ;;
    'folders add|--password-file') echo 'file' ;;
    'folders update|--from-file') echo 'file' ;;
    'folders update|--fs-provider') echo 'words local s3 gcs azblob crypt sftp' ;;
    'folders update|--gcs-credentials-file') echo 'file' ;;
    'folders update|--az-access-tier') echo 'words Hot Cool Archive' ;;
    'folders update|--sftp-private-key-file') echo 'file' ;;
    'folders update|--password-file') echo 'file' ;;
    'folders delete|--password-file') echo 'file' ;;
    'admins list|--order') echo 'words ASC DESC' ;;
    'admins list|--password-file') echo 'file' ;;
    'admins get|--password-file') echo 'file' ;;
    'admins add|--from-file') echo 'file' ;;
    'admins add|--status') echo 'words enabled disabled' ;;
    'admins add|--password-file') echo 'file' ;;
    'admins update|--from-file') echo 'file' ;;
    'admins update|--status') echo 'words enabled disabled' ;;
    'admins update|--password-file') echo 'file' ;;
    'admins delete|--password-file') echo 'file' ;;
    'admins passwd|--new-password-file') echo 'file' ;;
    'admins passwd|--password-file') echo 'file' ;;
    'quota scan|--password-file') echo 'file' ;;
    'quota scans|--password-file') echo 'file' ;;
    'quota set|--password-file') echo 'file' ;;
    'quota add|--password-file') echo 'file' ;;
    'dump|--output-file') echo 'file' ;;
    'dump|--password-file') echo 'file' ;;
    'load|--mode') echo 'words update add-only update-disconnect' ;;
    'load|--password-file') echo 'file' ;;
    'defender list|--password-file') echo 'file' ;;
    'defender get|--password-file') echo 'file' ;;
    'defender unban|--password-file') echo 'file' ;;
    'connections list|--password-file') echo 'file' ;;
    'connections close|--password-file') echo 'file' ;;
    'status|--password-file') echo 'file' ;;
    'version|--password-file') echo 'file' ;;
    'health|--password-file') echo 'file' ;;
    'login|--password-file') echo 'file' ;;
    'logout|--password-file') echo 'file' ;;
    'top|--password-file') echo 'file' ;;
    'gen man|-d'|'gen man|--dir') echo 'file' ;;
  esac
}

__sftpgo_arg_values() {
  case "$1|$2" in
    'users get|0') echo 'dynamic users' ;;
    'users add|0') echo 'dynamic users' ;;
    'users update|0') echo 'dynamic users' ;;
    'users delete|0') echo 'dynamic users' ;;
    'users disable|0') echo 'dynamic users' ;;
    'users enable|0') echo 'dynamic users' ;;
    'folders get|0') echo 'dynamic folders' ;;
    'folders add|0') echo 'dynamic folders' ;;
    'folders update|0') echo 'dynamic folders' ;;
    'folders delete|0') echo 'dynamic folders' ;;
    'admins get|0') echo 'dynamic admins' ;;
    'admins add|0') echo 'dynamic admins' ;;
    'admins update|0') echo 'dynamic admins' ;;
    'admins delete|0') echo 'dynamic admins' ;;
    'quota scan|0') echo 'words user folder' ;;
    'quota scan|1') echo 'dynamic @prev' ;;
    'quota scans|0') echo 'words user folder' ;;
    'quota set|0') echo 'words user folder' ;;
    'quota set|1') echo 'dynamic @prev' ;;
    'quota add|0') echo 'words user folder' ;;
    'quota add|1') echo 'dynamic @prev' ;;
    'load|0') echo 'file' ;;
    'defender get|0') echo 'dynamic defender' ;;
    'defender unban|0') echo 'dynamic defender' ;;
    'connections close|0') echo 'dynamic connections' ;;
    'completion|0') echo 'words bash zsh fish' ;;
    'gen completion|0') echo 'words bash zsh fish' ;;
  esac
}

# Live names (users, folders, admins, connection ids, defender hosts) come from the server
# through the hidden `sftpgo __complete KIND`; at most 2 seconds ($SFTPGO_COMPLETION_TIMEOUT), silent on any failure.
__sftpgo_dynamic() {
  local prog=${COMP_WORDS[0]}
  if command -v timeout >/dev/null 2>&1; then
    timeout "${SFTPGO_COMPLETION_TIMEOUT:-2}" "$prog" __complete "$1" "${__sftpgo_conn[@]}" 2>/dev/null
  else
    "$prog" __complete "$1" "${__sftpgo_conn[@]}" 2>/dev/null
  fi
}

_sftpgo() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local cpath='' npos=0 skip=0 i w sub spec
  local -a __sftpgo_conn=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if ((skip)); then
      skip=0
      continue
    fi
    case $w in
      --url | --username | --password-file) __sftpgo_conn+=("$w" "${COMP_WORDS[i + 1]}") ;;
    esac
    case $w in
      -*=*) continue ;;
      -*)
        [[ " $(__sftpgo_value_options "$cpath") " == *" $w "* ]] && skip=1
        continue
        ;;
    esac
    sub=$(__sftpgo_resolve "$cpath" "$w")
    if [[ -n $sub ]]; then
      cpath=${cpath:+$cpath }$sub
      npos=0
    else
      npos=$((npos + 1))
    fi
  done
  if ((skip)); then
    spec=$(__sftpgo_option_values "$cpath" "$prev")
  elif [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(__sftpgo_options "$cpath")" -- "$cur"))
    return 0
  else
    local subs
    subs=$(__sftpgo_subcommands "$cpath")
    if [[ -n $subs ]]; then
      COMPREPLY=($(compgen -W "$subs" -- "$cur"))
      return 0
    fi
    spec=$(__sftpgo_arg_values "$cpath" "$npos")
  fi
  case $spec in
    file)
      compopt -o filenames 2>/dev/null
      COMPREPLY=($(compgen -f -- "$cur"))
      ;;
    words\ *) COMPREPLY=($(compgen -W "${spec#words }" -- "$cur")) ;;
    dynamic\ *)
      local kind=${spec#dynamic }
      [[ $kind == @prev ]] && kind=${prev}s
      COMPREPLY=($(compgen -W "$(__sftpgo_dynamic "$kind")" -- "$cur"))
      ;;
    *) COMPREPLY=() ;;
  esac
  return 0
}

complete -F _sftpgo sftpgo
