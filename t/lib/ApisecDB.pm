package ApisecDB;
# Real databases for the users tests (issue 6): SQLite files made with the
# sqlite3 tool, and PostgreSQL servers (Debian's postgresql 15) started on a
# free 127.0.0.1 port in a temporary directory, remembered by pid and stopped
# by pid. Both get the users table from the one schema file, t/data/users.sql.
#
#   my $db = sqlite_users("$dir/users.db", { id => 'u1', username => 'alice' });
#   sqlite_exec($db, "UPDATE users SET active = 0 WHERE id = 'u1'");
#
#   my $pg = pg_start();                 # initdb, postgres, database, table
#   pg_users($pg, { id => 'u1', username => 'alice', role => 'admin' });
#   pg_exec($pg, "DELETE FROM users");   # or pg_query: rows as arrays
#   my $params = pg_dbd_params($pg);     # for DBDParams
#   pg_stop($pg);                        # fast shutdown; pg_start($pg) again
#   pg_kill($pg);                        # immediate (SIGQUIT), like a crash
#
# Rows are hash refs of column => value; username defaults to the id and
# password_hash to "!" (no password verifies against it). Values are always
# quoted as SQL strings (undef is NULL); both databases cast them to the
# column's type. As root the PostgreSQL processes run as the user apisec-test
# (PostgreSQL refuses root), which must exist.
use strict;
use warnings;
use Exporter 'import';
use File::Basename qw(dirname);
use File::Spec ();
use File::Temp qw(tempdir);
use POSIX ();
use Time::HiRes qw(time sleep);
use ApisecServer qw(free_port);

our @EXPORT_OK = qw(schema_file sql_quote users_insert_sql sqlite_users sqlite_exec
                    pg_start pg_stop pg_kill pg_exec pg_query pg_users pg_dbd_params
                    pg_bin);

my $PG_USER = 'apisec';   # the database superuser initdb makes
my $PG_DB   = 'apisec';
my $RUN_AS  = 'apisec-test';

sub schema_file {
    return File::Spec->catfile(dirname(File::Spec->rel2abs(__FILE__)), '..', 'data', 'users.sql');
}

sub slurp {
    my $f = shift;
    open my $h, '<', $f or die "$f: $!";
    local $/;
    return scalar <$h>;
}

sub sql_quote {
    my $v = shift;
    return 'NULL' unless defined $v;
    (my $q = "$v") =~ s/'/''/g;
    return "'$q'";
}

sub users_insert_sql {
    my @sql;
    for my $row (@_) {
        my %r = (password_hash => '!', %$row);
        $r{username} = $r{id} unless exists $r{username};
        my @cols = sort keys %r;
        push @sql, sprintf "INSERT INTO users (%s) VALUES (%s);\n",
            join(', ', @cols), join(', ', map { sql_quote($r{$_}) } @cols);
    }
    return join '', @sql;
}

# Runs CMD with SQL on its standard input; its output, or dies with it.
sub run_sql {
    my ($sql, @cmd) = @_;
    my $dir = tempdir(CLEANUP => 1);
    my $in = "$dir/in.sql";
    open my $f, '>', $in or die "$in: $!";
    print $f $sql;
    close $f;
    my $out = `@{[ join ' ', map { shell_quote($_) } @cmd ]} <$in 2>&1`;
    die "@cmd failed ($?): $out" if $?;
    return $out;
}

sub shell_quote {
    (my $s = shift) =~ s/'/'\\''/g;
    return "'$s'";
}

# --- SQLite ---------------------------------------------------------------

# Creates (or replaces) the database file PATH with the users table and ROWS.
sub sqlite_users {
    my ($path, @rows) = @_;
    unlink $path;
    run_sql(slurp(schema_file()) . users_insert_sql(@rows), 'sqlite3', '-bail', $path);
    return $path;
}

sub sqlite_exec {
    my ($path, $sql) = @_;
    return run_sql($sql, 'sqlite3', '-bail', $path);
}

# --- PostgreSQL -----------------------------------------------------------

sub pg_bin {
    my $tool = shift;
    for my $v (15, 16, 17, 14, 13) {
        my $p = "/usr/lib/postgresql/$v/bin/$tool";
        return $p if -x $p;
    }
    die "PostgreSQL's $tool not found: install the Debian package postgresql";
}

# The uid and gid PostgreSQL's processes run as: ours, or apisec-test's as root.
sub pg_ids {
    return ($<, (split " ", $()[0]) if $< != 0;
    my @pw = getpwnam($RUN_AS) or die "user $RUN_AS missing (PostgreSQL does not run as root)";
    return ($pw[2], $pw[3]);
}

sub drop_privileges {
    my ($uid, $gid) = pg_ids();
    return if $< == $uid;
    POSIX::setgid($gid) or POSIX::_exit(126);
    $) = "$gid $gid";
    POSIX::setuid($uid) or POSIX::_exit(126);
}

# Runs a PostgreSQL tool as the database's owner; dies with its output.
sub pg_tool {
    my ($log, @cmd) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log or POSIX::_exit(125);
        open STDERR, '>&', \*STDOUT;
        drop_privileges();
        { exec @cmd }
        POSIX::_exit(127);
    }
    waitpid($pid, 0);
    die "@cmd failed ($?): " . slurp($log) if $?;
}

sub psql_cmd {
    my $pg = shift;
    return (pg_bin('psql'), '-X', '-q', '-A', '-t', '-F', "\t", '-v', 'ON_ERROR_STOP=1',
            '-h', '127.0.0.1', '-p', $pg->{port}, '-U', $PG_USER, '-d', $PG_DB);
}

sub pg_ready {
    my ($pg, $secs) = @_;
    my $end = time + ($secs || 20);
    my $isready = pg_bin('pg_isready');
    while (time < $end) {
        return 0 if waitpid($pg->{pid}, POSIX::WNOHANG()) == $pg->{pid};
        system("$isready -q -h 127.0.0.1 -p $pg->{port} -U $PG_USER -d postgres >/dev/null 2>&1");
        return 1 if $? == 0;
        sleep 0.05;
    }
    return 0;
}

# pg_start(): a new cluster with database "apisec" and the users table.
# pg_start($pg): starts the stopped server $pg again, same data and port.
sub pg_start {
    my $pg = shift;
    my $fresh = !$pg;
    if ($fresh) {
        my $dir = tempdir('apisec-pg.XXXXXX', TMPDIR => 1, CLEANUP => 1);
        my ($uid, $gid) = pg_ids();
        chown $uid, $gid, $dir;
        $pg = { dir => $dir, port => free_port(), user => $PG_USER, db => $PG_DB };
        pg_tool("$dir/initdb.log", pg_bin('initdb'), '-D', "$dir/data", '-U', $PG_USER,
                '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync');
    }
    my $dir = $pg->{dir};
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$dir/postgres.log" or POSIX::_exit(125);
        open STDERR, '>&', \*STDOUT;
        drop_privileges();
        # Loopback TCP only; the socket directory is ours, not /run/postgresql.
        { exec pg_bin('postgres'), '-D', "$dir/data", '-h', '127.0.0.1', '-p', $pg->{port},
               '-k', $dir, '-c', 'fsync=off', '-c', 'synchronous_commit=off',
               '-c', 'full_page_writes=off', '-c', 'max_connections=200',
               '-c', 'shared_buffers=16MB' }
        POSIX::_exit(127);
    }
    $pg->{pid} = $pid;
    pg_ready($pg) or die "PostgreSQL did not start on $pg->{port}: " . slurp("$dir/postgres.log");
    if ($fresh) {
        pg_tool("$dir/createdb.log", pg_bin('createdb'), '-h', '127.0.0.1', '-p', $pg->{port},
                '-U', $PG_USER, $PG_DB);
        pg_exec($pg, slurp(schema_file()));
    }
    return $pg;
}

sub pg_exec {
    my ($pg, $sql) = @_;
    return run_sql($sql, psql_cmd($pg));
}

# Rows of a query, each an array ref of its columns (NULL as "").
sub pg_query {
    my ($pg, $sql) = @_;
    return map { [split /\t/, $_, -1] } split /\n/, pg_exec($pg, $sql);
}

sub pg_users {
    my ($pg, @rows) = @_;
    return pg_exec($pg, users_insert_sql(@rows));
}

sub pg_dbd_params {
    my $pg = shift;
    return "host=127.0.0.1 port=$pg->{port} dbname=$PG_DB user=$PG_USER connect_timeout=2";
}

sub wait_gone {
    my ($pid, $secs) = @_;
    my $end = time + $secs;
    while (time < $end) {
        return 1 if waitpid($pid, POSIX::WNOHANG()) != 0;
        sleep 0.05;
    }
    return 0;
}

# Stops the server by pid with SIG: INT is a fast shutdown (sessions are
# ended, the data is kept), QUIT an immediate one (every backend dies at
# once, as in a crash; the next start recovers).
sub pg_signal {
    my ($pg, $sig) = @_;
    return unless $pg && $pg->{pid};
    kill $sig, $pg->{pid};
    unless (wait_gone($pg->{pid}, 20)) {
        kill 'KILL', $pg->{pid};
        waitpid($pg->{pid}, 0);
    }
    delete $pg->{pid};
}

sub pg_stop { pg_signal($_[0], 'INT') }
sub pg_kill { pg_signal($_[0], 'QUIT') }

1;
