#compdef backupshare

_backupshare_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _BACKUPSHARE_COMPLETE=complete_zsh backupshare)
}

compdef _backupshare_completion backupshare
