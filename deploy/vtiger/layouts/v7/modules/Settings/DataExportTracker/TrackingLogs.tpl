{*
 * Tracking Logs tab: dxt_event newest first. Filters by user, type, module
 * and a day range in the administrator's time zone; keyset paging (Newer /
 * Older), so every page is as fast as the first.
 *}
{strip}
<div class="dxt-logs" id="DataExportTrackerLogs">
	<form class="form-inline dxt-filters" method="get" action="index.php">
		<input type="hidden" name="module" value="DataExportTracker" />
		<input type="hidden" name="parent" value="Settings" />
		<input type="hidden" name="view" value="Index" />
		<input type="hidden" name="tab" value="logs" />
		<div class="form-group">
			<label for="dxt_user">{vtranslate('LBL_USER', $QUALIFIED_MODULE)}</label>&nbsp;
			<select class="form-control inputElement" id="dxt_user" name="dxt_user">
				<option value="">{vtranslate('LBL_ALL', $QUALIFIED_MODULE)}</option>
				{foreach from=$CHOICES.users item=NAME}
					<option value="{$NAME|escape:'html'}" {if $FILTER.user eq $NAME}selected="selected"{/if}>{$NAME|escape:'html'}</option>
				{/foreach}
			</select>
		</div>
		<div class="form-group">
			<label for="dxt_type">{vtranslate('LBL_TYPE', $QUALIFIED_MODULE)}</label>&nbsp;
			<select class="form-control inputElement" id="dxt_type" name="dxt_type">
				<option value="">{vtranslate('LBL_ALL', $QUALIFIED_MODULE)}</option>
				{foreach from=$CHOICES.types item=TYPE}
					<option value="{$TYPE|escape:'html'}" {if $FILTER.type eq $TYPE}selected="selected"{/if}>{vtranslate("LBL_TYPE_`$TYPE`", $QUALIFIED_MODULE)|escape:'html'}</option>
				{/foreach}
			</select>
		</div>
		<div class="form-group">
			<label for="dxt_module">{vtranslate('LBL_MODULE', $QUALIFIED_MODULE)}</label>&nbsp;
			<select class="form-control inputElement" id="dxt_module" name="dxt_module">
				<option value="">{vtranslate('LBL_ALL', $QUALIFIED_MODULE)}</option>
				{foreach from=$CHOICES.modules item=MOD}
					<option value="{$MOD|escape:'html'}" {if $FILTER.module eq $MOD}selected="selected"{/if}>{vtranslate($MOD, $MOD)|escape:'html'}</option>
				{/foreach}
			</select>
		</div>
		<div class="form-group">
			<label for="dxt_from">{vtranslate('LBL_FROM', $QUALIFIED_MODULE)}</label>&nbsp;
			<input class="form-control inputElement" type="date" id="dxt_from" name="dxt_from" value="{$FILTER.from_day|escape:'html'}" />
		</div>
		<div class="form-group">
			<label for="dxt_to">{vtranslate('LBL_TO', $QUALIFIED_MODULE)}</label>&nbsp;
			<input class="form-control inputElement" type="date" id="dxt_to" name="dxt_to" value="{$FILTER.to_day|escape:'html'}" />
		</div>
		<div class="form-group">
			<button type="submit" class="btn btn-default">{vtranslate('LBL_FILTER', $QUALIFIED_MODULE)}</button>
			&nbsp;<a href="{$CLEAR_URL}">{vtranslate('LBL_CLEAR', $QUALIFIED_MODULE)}</a>
		</div>
	</form>
	<p class="text-muted dxt-tz">{vtranslate('LBL_TIMES_IN', $QUALIFIED_MODULE)} {$USER_TZ|escape:'html'}</p>
	{if $FILTER_PROBLEM neq ''}
		<div class="alert alert-warning">{$FILTER_PROBLEM|escape:'html'}</div>
	{/if}
	<table class="table table-bordered listViewEntriesTable dxt-events">
		<thead>
			<tr class="listViewHeaders">
				<th>{vtranslate('LBL_DATE_TIME', $QUALIFIED_MODULE)}</th>
				<th>{vtranslate('LBL_USER', $QUALIFIED_MODULE)}</th>
				<th>{vtranslate('LBL_TYPE', $QUALIFIED_MODULE)}</th>
				<th>{vtranslate('LBL_MODULE', $QUALIFIED_MODULE)}</th>
				<th class="dxt-num">{vtranslate('LBL_RECORD_COUNT', $QUALIFIED_MODULE)}</th>
				<th>{vtranslate('LBL_IP_ADDRESS', $QUALIFIED_MODULE)}</th>
				<th class="dxt-center">{vtranslate('LBL_DOWNLOAD', $QUALIFIED_MODULE)}</th>
			</tr>
		</thead>
		<tbody>
			{foreach from=$EVENTS item=EV}
				<tr class="listViewEntries" data-event-id="{$EV.id}">
					<td class="dxt-when">{$EV.when|escape:'html'}</td>
					<td>{$EV.user|escape:'html'}</td>
					<td>
						{vtranslate("LBL_TYPE_`$EV.type`", $QUALIFIED_MODULE)|escape:'html'}
						{if $EV.report_name neq ''}<div class="text-muted dxt-sub">{$EV.report_name|escape:'html'}</div>{/if}
						{if $EV.page neq ''}<div class="text-muted dxt-sub">{$EV.page|escape:'html'}</div>{/if}
					</td>
					<td>{if $EV.module neq ''}{vtranslate($EV.module, $EV.module)|escape:'html'}{/if}</td>
					<td class="dxt-num">{if isset($EV.record_count)}{$EV.record_count}{else}<span class="text-muted">-</span>{/if}</td>
					<td>{$EV.ip|escape:'html'}</td>
					<td class="dxt-center">
						{if $EV.download_url neq ''}
							<a class="dxt-download" href="{$EV.download_url}" title="{vtranslate('LBL_DOWNLOAD', $QUALIFIED_MODULE)}: {$EV.content_name|escape:'html'}"><i class="fa fa-download"></i></a>
						{/if}
					</td>
				</tr>
			{foreachelse}
				<tr><td colspan="7" class="text-center text-muted">{vtranslate('LBL_NO_EVENTS', $QUALIFIED_MODULE)}</td></tr>
			{/foreach}
		</tbody>
	</table>
	<div class="dxt-paging clearfix">
		{if $NEWEST_URL neq ''}<a class="btn btn-default" href="{$NEWEST_URL|escape:'html'}">{vtranslate('LBL_NEWEST', $QUALIFIED_MODULE)}</a>&nbsp;{/if}
		{if $NEWER_URL neq ''}<a class="btn btn-default dxt-newer" href="{$NEWER_URL|escape:'html'}">&laquo; {vtranslate('LBL_NEWER', $QUALIFIED_MODULE)}</a>&nbsp;{/if}
		{if $OLDER_URL neq ''}<a class="btn btn-default dxt-older" href="{$OLDER_URL|escape:'html'}">{vtranslate('LBL_OLDER', $QUALIFIED_MODULE)} &raquo;</a>{/if}
	</div>
</div>
{/strip}
